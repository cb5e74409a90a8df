"""The single declaration of every model parameter.

Each parameter is declared exactly once here — dotted Hydra key, default, type, allowed range,
unit, meaning and the article ids it encodes (see ``docs/ARTICLE.md``). The Hydra structured
config, the validation of user input, the ODD parameter table and the teaching app's sliders all
read this list; nothing else may repeat a name, a range or a label.

Defaults encode the article's own assumptions. The article's numbers describe events (F07's one-off
~1,000 containers, F04's debt, F05's delegation and 4,000 km), not model quantities, so every
number here is ours: ``chosen=True``. ``chosen=False`` marks the article's own facts: troops in
Kursk at the start (F13). The ``limits.*`` strengths are ours in number but read from the article's
hedge words (each quoted beside it): the default is the middle of the word's range, and the
argument command (``experiments.argument``) switches each off (0) one at a time. Every number
marked ``chosen=True`` is listed as such in ``docs/ODD.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Number = float | int


@dataclass(frozen=True)
class Param:
    """One model parameter: its key, default, type, range, unit, meaning and article ids."""

    key: str
    default: Any
    kind: type  # float, int or bool
    low: float
    high: float
    unit: str
    ids: tuple[str, ...]
    meaning: str
    chosen: bool = True  # True when the article gives no number and the value is ours
    levels: Mapping[str, float] = field(default_factory=dict)  # named values, e.g. low/base/high
    teach: bool = False  # shown as a slider in the teaching app
    # The range of readings of the article the robustness check draws from, where it is narrower
    # than what the model can compute (``low``–``high``); None: the whole allowed range.
    plausible: tuple[float, float] | None = None
    # A strength in [0, 1] that also takes the old switch's presets: true = 1, false = 0 (the
    # limits, issue 22: the article hedges them, so they are strengths, not certainties).
    switch: bool = False

    def plausible_bounds(self) -> tuple[float, float]:
        """The plausible range (docs/ODD.md §7.9): ``plausible`` if declared, else low–high."""
        return self.plausible if self.plausible is not None else (self.low, self.high)

    @property
    def group(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    def resolve(self, value: Any) -> float | int | bool:
        """Return ``value`` as this parameter's type, or raise ``ParameterError``."""
        if isinstance(value, str) and value in self.levels:
            return self.levels[value]
        if self.switch and isinstance(value, bool | np.bool_):
            return float(bool(value))
        allowed = self.describe_allowed()
        if self.kind is bool:
            if isinstance(value, bool | np.bool_):
                return bool(value)
            raise ParameterError(f"{self.key}={value!r} is not allowed: expected {allowed}")
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
            raise ParameterError(f"{self.key}={value!r} is not allowed: expected {allowed}")
        if self.kind is int and float(value) != int(value):
            raise ParameterError(f"{self.key}={value!r} is not allowed: expected {allowed}")
        if not (self.low <= float(value) <= self.high):
            raise ParameterError(f"{self.key}={value!r} is out of range: expected {allowed}")
        return int(value) if self.kind is int else float(value)

    def resolve_array(self, value: Any) -> np.ndarray:
        """Validate an array of values (one per replicate) for this parameter."""
        arr = np.asarray(value)
        if self.switch and arr.dtype == bool:
            return arr.astype(float)
        if self.kind is bool:
            if arr.dtype != bool:
                raise ParameterError(f"{self.key}: expected booleans, got dtype {arr.dtype}")
            return arr
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_):
            raise ParameterError(f"{self.key}: expected {self.describe_allowed()}")
        bad = ~((arr >= self.low) & (arr <= self.high))
        if bad.any():
            raise ParameterError(
                f"{self.key}: {int(bad.sum())} value(s) out of range, e.g. "
                f"{arr[bad].flat[0]!r}; expected {self.describe_allowed()}"
            )
        return arr.astype(float)

    def describe_allowed(self) -> str:
        if self.kind is bool:
            return "true or false"
        kind = "an integer" if self.kind is int else "a number"
        text = f"{kind} in [{self.low:g}, {self.high:g}]"
        if self.levels:
            names = ", ".join(f"{k} ({v:g})" for k, v in self.levels.items())
            text += f" or one of {names}"
        if self.switch:
            text += " or true (1) / false (0)"
        return text


class ParameterError(ValueError):
    """A parameter value that is unknown, of the wrong type or out of range."""


P = Param  # short alias for the table below: P(key, default, type, low, high, unit, ids, meaning)

# fmt: off
PARAMETERS: tuple[Param, ...] = (
    # --- world: the Russia–West confrontation and the war (M01–M03, M25) -----------------
    P('world.confrontation', 0.9, float, 0.0, 1.0, 'index 0–1', ('M02', 'M03', 'M25'),
      'Russia–West confrontation level the world tends to after 2024Q3 while the war goes on (0 = '
      'détente of the 2000s, 1 = open confrontation); the record codes the war years 0.90 '
      '(sim/data/replay_inputs.csv), so the default continues it', teach=True),
    P('world.volatility', 0.05, float, 0.0, 0.3, 'index per quarter', ('M25',),
      'quarterly standard deviation of shocks to the confrontation level'),
    P('world.persistence', 0.75, float, 0.0, 0.99, 'share per quarter', ('M25',),
      "share of last quarter's confrontation gap that persists (1 − speed of return to target)"),
    P('world.ceasefire_hazard', 0.03, float, 0.0, 1.0, 'probability per quarter', ('M03',),
      'chance per quarter that the war in Ukraine ends in a ceasefire (1 = ends at once); an '
      'exogenous input: the article names no ceasefire', teach=True),
    P('world.ceasefire_relief', 0.35, float, 0.0, 1.0, 'index', ('M02', 'M03'),
      'how far the confrontation target falls after a ceasefire'),
    # --- sanctions: the UN regime, its monitoring and enforcement (F06, M02, M10, M17) ------
    P('sanctions.un_monitoring', 0.3, float, 0.0, 1.0, 'probability per quarter', ('F06', 'M10'),
      'chance that UN monitoring (1718 Committee and its experts) notices covert shipments in a '
      'quarter after 2024Q3; the record codes 0.3 once the Panel of Experts lapsed (2024-04-30), '
      'so the default continues it', teach=True),
    P('sanctions.enforcement', 0.5, float, 0.0, 1.0, 'index 0–1', ('M10', 'M17'),
      'intensity of Western enforcement: inspections, satellite watch, secondary sanctions; it is '
      'the "new pressure" on an open breach (M17) and a watcher of covert trade (M10)', teach=True),
    P('sanctions.detection', 0.6, float, 0.0, 1.0, 'probability per quarter', ('F07', 'M10'),
      "chance a quarter's noticed covert shipments are published (F07: US statements and "
      'satellite images)'),
    P('sanctions.refined_cap', 0.125, float, 0.0, 2.0, 'million barrels per quarter', ('F09', 'M13'),
      'UN cap on refined petroleum products to the DPRK (500,000 bbl a year, UNSCR 2397)'),
    P('sanctions.exposure_memory', 0.8, float, 0.0, 0.99, 'share per quarter', ('M17', 'F07'),
      'share of the published evidence of covert shipments still weighing on Russia a quarter '
      'later'),
    P('sanctions.permitted_share', 0.4, float, 0.0, 1.0, 'share of economic cooperation', ('M10', 'M17'),
      'share of economic cooperation that breaches nothing (transport, communications, '
      'culture, humanitarian exchange, tourism: M10) and so can be delivered while Russia '
      'observes the sanctions'),
    # --- stockpile: the DPRK's munitions (F07, F10, M15, M20) -------------------------------
    P('stockpile.dprk', 20.0, float, 0.0, 100.0, 'thousand containers', ('F07', 'M15'),
      "the DPRK's artillery-munitions stockpile in peacetime, in F07's unit (~1,000 containers "
      'shipped in a month): its level in 2000Q1, which its own production holds while nothing '
      'is shipped', levels={'low': 10.0, 'base': 20.0, 'high': 40.0}, teach=True),
    P('stockpile.reserve', 10.0, float, 0.0, 100.0, 'thousand containers', ('M15',),
      'the defence reserve the DPRK will not ship below (M15: it will not exhaust its reserves); '
      'half the base stockpile', teach=True),
    P('stockpile.capacity_ceiling', 3.0, float, 1.0, 10.0, 'multiple of own production', ('M15', 'M04', 'M08'),
      "the most the DPRK's economic base can produce with full Russian inputs, as a multiple of "
      'its own production (the replacement of what ages; M15: it lacks the economic base; M04, '
      'M08: Russian inputs and arms production as the core sector)'),
    P('stockpile.capacity_growth', 0.2, float, 0.0, 1.0, 'share per quarter', ('M04', 'M08', 'M22'),
      'share of the gap between production capacity and what Russian inputs would pay for that '
      'closes per quarter (factories take time: M22)'),
    P('stockpile.depreciation', 0.03, float, 0.0, 0.5, 'share per quarter', ('M15',),
      'share of the stockpile used in training or lost to ageing each quarter; the DPRK\'s own '
      'economy replaces it (this share of `stockpile.dprk` a quarter: M15, it lacks the economic '
      'base for more), so the stock holds at `stockpile.dprk` while nothing is shipped'),
    P('stockpile.quality', 0.6, float, 0.0, 1.0, 'share', ('F10', 'M20'),
      'share of supplied munitions that meet Russian standards (F10: poor quality)', teach=True),
    # --- Russia (M04, M08, M13, M17–M24) --------------------------------------------------
    P('russia.war_demand', 3.0, float, 0.0, 20.0, 'thousand containers per quarter', ('F07', 'M03', 'M04'),
      "Russia's demand for DPRK munitions at full confrontation while the war goes on; F07's "
      'one-off (~1,000 containers in some seven weeks) gives the scale, not a sustained rate'),
    P('russia.peacetime_interest', 0.55, float, 0.0, 1.0, 'share', ('M02', 'M03'),
      "share of Russia's interest in the DPRK that remains, at the same confrontation, without "
      'the war'),
    P('russia.reputation_cost', 0.6, float, 0.0, 2.0, 'interest units', ('M17', 'F06'),
      'cost to a permanent UNSC member of openly breaching resolutions it voted for, per unit of '
      'Western pressure', teach=True),
    P('russia.covert_threshold', 0.4, float, 0.0, 1.0, 'interest units', ('M10', 'M02'),
      'interest Russia needs before it uses loopholes and covert channels rather than observing '
      'the sanctions'),
    P('russia.open_threshold', 0.3, float, 0.0, 1.0, 'interest units', ('M08', 'M17'),
      'interest, net of the reputation cost, Russia needs before it openly sets the regime aside'),
    P('russia.posture_noise', 0.15, float, 0.0, 1.0, 'interest units', ('M25',),
      'standard deviation of quarterly shocks to Russia\'s sanctions calculus'),
    P('russia.quality_learning', 0.25, float, 0.0, 1.0, 'share per quarter', ('F10', 'M20'),
      'share of the gap between expected and real munitions quality Russia learns per quarter '
      'of deliveries'),
    P('russia.tech_control', 0.75, float, 0.0, 1.0, 'index 0–1', ('M18',),
      "Russia's reluctance to hand over military technology it cannot control (copying, "
      'arms-market competition, leakage)', teach=True),
    P('russia.nuclear_taboo', 0.97, float, 0.0, 1.0, 'index 0–1', ('M19',),
      "Russia's refusal to transfer ICBM and nuclear-weapon technology"),
    P('russia.tech_rate', 0.15, float, 0.0, 1.0, 'probability per quarter', ('M08', 'M04'),
      'chance per quarter of a technology step at full interest, full munitions received in '
      'return and no reluctance'),
    P('russia.rok_retaliation', 1.5, float, 0.0, 5.0, 'multiplier', ('M23', 'F11'),
      'how much more likely a technology transfer becomes once Seoul ships shells to Kyiv'),
    P('russia.energy_supply', 0.25, float, 0.0, 2.0, 'million barrels per quarter', ('F09', 'M13'),
      'oil products Russia delivers per quarter at most, under intergovernmental or humanitarian '
      'arrangements'),
    P('russia.humanitarian_share', 0.3, float, 0.0, 1.0, 'share of energy supply', ('F09', 'M04'),
      'share of the energy supply delivered as humanitarian or intergovernmental aid with '
      'nothing in return; the rest pays for munitions received (M04)'),
    P('russia.gas_supply', 0.1, float, 0.0, 2.0, 'billion m³ per quarter', ('M13', 'M04', 'F03'),
      'natural gas Russia delivers per quarter at full economic cooperation, once a pipeline '
      'exists (F03: agreed in 2011, never built; a modelling choice, docs/ODD.md)'),
    P('russia.pipeline_rate', 0.02, float, 0.0, 1.0, 'probability per quarter', ('F03', 'M13', 'M22'),
      'chance per quarter that a pipeline is completed at full delivered economic cooperation '
      '(a wide, slow project; modelling choice)'),
    P('russia.summit_rate', 0.8, float, 0.0, 1.0, 'probability per quarter', ('M01',),
      'chance per quarter of a summit-level contact when shared interest is full (calibrated '
      "to Table 1's summit counts by the replay, docs/VALIDATION.md)"),
    P('russia.signalling', 0.25, float, 0.0, 1.0, 'probability per quarter', ('M23',),
      "extra chance of a visit or gesture per quarter used as a 'message' to the West, at full "
      'US support for Ukraine, war and confrontation'),
    P('russia.signal_memory', 0.75, float, 0.0, 0.99, 'share per quarter', ('M01', 'M23'),
      "share of last quarter's political signal (summits, visits) still felt this quarter"),
    P('russia.implementation_rate', 0.3, float, 0.01, 1.0, 'share per quarter', ('M22',),
      'share of the gap between what is agreed (and deliverable) and what is delivered closed per '
      'quarter for a one-domain agreement; wider agreements are slower'),
    P('russia.paper_ambition', 0.5, float, 0.0, 1.0, 'index per unit of shared interest', ('M01', 'M22'),
      'how far beyond what is already delivered a summit agreement reaches, per unit of shared '
      'interest'),
    P('russia.paper_fade', 0.08, float, 0.0, 1.0, 'share per quarter', ('M22', 'M23'),
      'share of agreed-but-undelivered cooperation forgotten per quarter (paper without delivery '
      'fades)'),
    P('russia.link_rate', 0.1, float, 0.0, 1.0, 'probability per quarter', ('M14', 'M22'),
      'chance per quarter that a transport or communication link is built at full delivered '
      'economic cooperation (implemented agreements)'),
    P('russia.cash_base', 0.1, float, 0.0, 1.0, 'share of trade', ('M16',),
      'cash share of trade while sanctions keep the banking channels closed'),
    P('russia.barter_base', 0.3, float, 0.0, 1.0, 'index 0–1', ('M16',),
      'economic cooperation that barter can carry with nothing to exchange (survival trade); '
      'beyond it the DPRK must pay in munitions or labour'),
    P('russia.escalation_restraint', 0.8, float, 0.0, 1.0, 'index 0–1', ('M24', 'M23'),
      "restraint from signing a 'next level' document that would sharpen the confrontation"),
    P('russia.next_level_rate', 0.03, float, 0.0, 1.0, 'probability per quarter', ('M24',),
      "chance per quarter of a 'next level' document at full shared interest, full political "
      'signal and no restraint'),
    P('russia.defence_credibility', 0.3, float, 0.0, 1.0, 'index 0–1', ('F12', 'M21'),
      "credibility of Russia's promise to defend the DPRK (F12: Armenia was not defended in 2023)"),
    P('russia.kursk_effect', 0.1, float, 0.0, 1.0, 'index 0–1', ('F13', 'M21'),
      "share of the remaining doubt that DPRK soldiers fighting for Russia remove (M21: 'cannot "
      "be ruled out')"),
    # --- DPRK (M05, M06, M12, F13) ---------------------------------------------------------
    P('dprk.nuclear_drive', 0.8, float, 0.0, 1.0, 'index 0–1', ('M05',),
      "the DPRK's drive for nuclear status and home-grown technology"),
    P('dprk.china_dependence', 0.9, float, 0.5, 0.99, 'share of DPRK trade', ('M06',),
      "China's share of the DPRK's trade with the two were Russia's trade at its full level: "
      "the size of China's trade (on the record China keeps ~90 % or more throughout)"),
    P('dprk.equidistance_drive', 0.6, float, 0.0, 1.0, 'index 0–1', ('M06',),
      "the DPRK's drive back to Kim Il Sung's equal distance between Moscow and Beijing"),
    P('dprk.supply_interest', 0.2, float, 0.0, 1.0, 'index 0–1', ('M04',),
      'interest in Russia below which the DPRK ships no munitions'),
    P('dprk.troops_deployed', True, bool, 0, 1, 'yes/no', ('F13',),
      'North Korean soldiers go to fight for Russia in the first forward quarter, 2024Q4, if the '
      'war goes on (F13: Kursk; first reports 2024-10, after the history ends)', chosen=False),
    P('dprk.troop_dispatch', 0.1, float, 0.0, 1.0, 'probability per quarter', ('F13', 'M21'),
      'chance per quarter of sending soldiers under the treaty at full defence cooperation and '
      'interest'),
    P('dprk.troop_withdrawal', 0.15, float, 0.0, 1.0, 'probability per quarter', ('M20',),
      'chance per quarter of withdrawing soldiers when no munitions flow (M20: little room to '
      'draw the DPRK into the war)'),
    # --- China (M06) ----------------------------------------------------------------------
    P('china.leverage', 0.15, float, 0.0, 1.0, 'share of trade', ('M06',),
      "extra trade and aid China offers when the DPRK turns fully to Russia (a modelling choice: "
      'the article names the dependence, not a counter-offer)', teach=True),
    P('china.enforcement', 0.2, float, 0.0, 1.0, 'index 0–1', ('M06', 'M10'),
      'how strictly China enforces the UN sanctions at its border: the share of its DPRK trade '
      'it stops and its chance of noticing covert shipments (a modelling choice)', teach=True),
    # --- United States (F01, M03, M23) ----------------------------------------------------
    P('usa.asia_attention', 0.4, float, 0.0, 1.0, 'share', ('M03',),
      'share of US attention on Asia rather than Europe while the war goes on', teach=True),
    P('usa.postwar_attention', 0.7, float, 0.0, 1.0, 'share', ('M03',),
      'share of US attention on Asia once the war has ended'),
    P('usa.ukraine_support', 0.7, float, 0.0, 1.0, 'index 0–1', ('M23',),
      "level of US support for Ukraine, which Moscow answers with 'messages' (M23)"),
    # --- ROK (F11, M23) -------------------------------------------------------------------
    P('rok.shell_hazard', 0.03, float, 0.0, 1.0, 'probability per quarter', ('F11', 'M23'),
      'chance per quarter that Seoul decides to send shells to Kyiv (1 = at once)', teach=True),
    # --- Japan (F01) ----------------------------------------------------------------------
    P('japan.trilateral', 0.9, float, 0.0, 1.0, 'index 0–1', ('F01',),
      'cohesion of the US–Japan–ROK trilateral after 2024Q3 (F01: Camp David); the record codes '
      '0.9 after the 2024-06 Freedom Edge exercise, so the default continues it'),
    P('japan.surveillance', 0.2, float, 0.0, 1.0, 'probability per quarter', ('F01', 'M10'),
      "chance per quarter that Japan's watch notices covert shipments, at full trilateral "
      'cohesion'),
    # --- limits: the article's reasons for S2, each a strength read from its hedge word -----
    # 0 = the limit switched off, 1 = the limit as a certainty; true/false are presets for 1/0
    # (the argument's ablations). Plausible range: the article's word (docs/ODD.md §7.9.1);
    # default: the middle of it. What a strength does is said in each rule's docstring.
    P('limits.stockpile', 0.875, float, 0.0, 1.0, 'strength 0–1', ('M15',),
      "M15: the DPRK ships only what lies above its reserve; at strength s it also ships a share "
      "1 − s of what Russia asks beyond it. \"тогтмол нийлүүлэх боломжгүй\" (cannot supply "
      "regularly), \"нөөцийг шавхах эрсдэлтэй\" (at risk of exhausting its reserves): 0.75–1",
      plausible=(0.75, 1.0), switch=True),
    P('limits.barter', 0.75, float, 0.0, 1.0, 'strength 0–1', ('M16',),
      'M16: trade runs on barter, bounded by what the DPRK can pay in kind; at strength s a share '
      '1 − s moves through banking channels. "давамгайлах магадлалтай" (likely to dominate): '
      '0.5–1', plausible=(0.5, 1.0), switch=True),
    P('limits.reputation', 0.75, float, 0.0, 1.0, 'strength 0–1', ('M17',),
      "M17: an open breach costs a permanent Council member its reputation (the cost × s). "
      '"дагаж мөрдөх магадлалтай" (likely to keep to the old sanctions): 0.5–1',
      plausible=(0.5, 1.0), switch=True),
    P('limits.technology', 0.875, float, 0.0, 1.0, 'strength 0–1', ('M18', 'M19'),
      "M18, M19: Russia guards military, missile and nuclear technology (its control and the "
      'nuclear taboo × s). "сонирхол байхгүй" (no interest), "дамжуулахгүй" (will not '
      'transfer): 0.75–1', plausible=(0.75, 1.0), switch=True),
    P('limits.quality', 0.5, float, 0.0, 1.0, 'strength 0–1', ('M20', 'F10'),
      'M20, F10: Russia buys less once it knows the munitions are substandard, and the DPRK '
      'withdraws soldiers as defence cooperation thins (both × s). "боломж хомс" (little room), '
      '"урагшлахгүй байх магадлал бий" (there is a chance it will not advance): 0.25–0.75',
      plausible=(0.25, 0.75), switch=True),
    P('limits.restraint', 0.875, float, 0.0, 1.0, 'strength 0–1', ('M24',),
      "M24: restraint from a 'next level' document (× s). \"гарын үсэг зурахгүй байх магадлал "
      "өндөр\" (highly likely not to sign): 0.75–1",
      plausible=(0.75, 1.0), switch=True),
    # --- classifier: horizons and thresholds (S1, S2; docs/ODD.md §7.9) -------------------
    P('classifier.short', 4, int, 1, 40, 'quarters', ('S1', 'S2'),
      "end of the short term ('ойрын хугацаа'): the first year; plausible readings half a year "
      'to two years', plausible=(2, 8)),
    P('classifier.medium', 16, int, 2, 80, 'quarters', ('S1', 'S2'),
      "end of the medium term ('дунд хугацаа'): four years, one US and ROK electoral cycle; "
      'plausible readings two and a half to six years', plausible=(10, 24)),
    P('classifier.s1_defence_ratio', 0.75, float, 0.5, 1.0, 'ratio to the start', ('S1', 'M08'),
      'S1-munitions: medium-term munitions rate at least this share of its 2024Q3 rate ("ойрын '
      'болон дунд хугацаанд бэхжиж болзошгүй": may strengthen in the short and medium term)'),
    P('classifier.s1_production_ratio', 1.25, float, 1.0, 2.0, 'ratio to own production',
      ('S1', 'M08', 'M15'),
      "S1-production: medium-term DPRK production capacity at least this multiple of what its own "
      'economy produces (arms production as the core sector, "үндсэн салбар")',
      plausible=(1.1, 1.5)),
    P('classifier.s1_economic_growth', 1.25, float, 1.05, 2.0, 'ratio to the start', ('S1', 'S2'),
      'S1-economy: medium-term delivered economy at least this multiple of its start level '
      '(below it, S2-economy: no expansion)'),
    P('classifier.s1_tech_tier', 2, int, 2, 4, 'tier', ('S1', 'M08'),
      'S1-technology: at least this tier (2 = conventional military) by the end of the medium term; '
      'the text fixes it at 2: S1 passes on "цэргийн техник гэхээсээ илүү хэрэгтэй технологийн '
      'элементүүд" (useful technology elements rather than hardware), not missiles or nuclear '
      'technology', plausible=(2, 2)),
    P('classifier.s1_unobserved_share', 0.75, float, 0.5, 1.0, 'share of quarters', ('S1', 'M10'),
      'S1-sanctions: Russia does not observe the old sanctions (loopholes or an open breach) in at '
      'least this share of the medium term; no open breach is required ("НҮБ-ын тогтоолыг шууд '
      'үл тоомсорлох бус нууц хамтын ажиллагаа": covert cooperation, not open flouting)'),
    P('classifier.s2_burst_ratio', 0.5, float, 0.25, 0.75, 'ratio to the start', ('S2',),
      'S2-burst: short-term munitions rate at least this share of its 2024Q3 rate'),
    P('classifier.s2_defence_ratio', 0.5, float, 0.25, 0.75, 'ratio to the start', ('S2', 'M15'),
      'S2-defence: long-term munitions rate at most this share of its 2024Q3 rate ("тогтмол '
      'нийлүүлэх боломжгүй": cannot supply regularly)'),
    P('classifier.s2_tech_tier', 1, int, 0, 1, 'tier', ('S2', 'M18'),
      'S2-technology: at most this tier (1 = civil and space) over the whole run; the text fixes '
      'it at 1: S2 allows "тагнуулын хиймэл дагуул зэрэг ... технологиуд" (technology such as '
      'reconnaissance satellites)', plausible=(1, 1)),
    P('classifier.s2_breach_share', 0.1, float, 0.0, 0.25, 'share of quarters', ('S2', 'M17'),
      'S2-sanctions: open breach in at most this share of quarters (formally within the old '
      'sanctions)'),
    P('classifier.s2_cash_share', 0.5, float, 0.3, 0.7, 'share of trade', ('S2', 'M16'),
      'S2-economy: medium- and long-term cash share of trade below this (barter dominates)'),
)
# fmt: on

BY_KEY: dict[str, Param] = {p.key: p for p in PARAMETERS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(p.group for p in PARAMETERS))
MODEL_GROUPS: tuple[str, ...] = tuple(g for g in GROUPS if g != "classifier")

# Run settings that are not model parameters (CONTRACT.md keys).
RUN_KEYS: dict[str, Any] = {"seed": 20241001, "replicates": 10_000, "horizon": 40}
MAX_SEED = 2**63 - 1


def defaults() -> dict[str, Any]:
    """Default value of every parameter, keyed by dotted key."""
    return {p.key: p.default for p in PARAMETERS}


def resolve(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge ``values`` (dotted keys) onto the defaults and validate every one.

    Scalars are resolved to their type (named levels to numbers); numpy arrays are validated
    element-wise and kept as arrays, one value per replicate.
    """
    out = defaults()
    for key, value in (values or {}).items():
        if key not in BY_KEY:
            raise ParameterError(f"unknown parameter {key!r}: {suggest(key)}")
        param = BY_KEY[key]
        out[key] = (
            param.resolve_array(value) if isinstance(value, np.ndarray) else param.resolve(value)
        )
    check_consistency(out)
    return out


def check_consistency(values: Mapping[str, Any]) -> None:
    """Constraints between parameters (the horizons must nest)."""
    short, medium = values["classifier.short"], values["classifier.medium"]
    if np.any(np.asarray(short) >= np.asarray(medium)):
        raise ParameterError(
            f"classifier.short={short} must be smaller than classifier.medium={medium}"
        )


def suggest(key: str) -> str:
    """A hint naming the closest known keys."""
    import difflib

    close = difflib.get_close_matches(key, list(BY_KEY) + list(RUN_KEYS), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "known groups are " + ", ".join(GROUPS)


def flatten(nested: Mapping[str, Any], groups: Iterable[str] = GROUPS) -> dict[str, Any]:
    """Turn ``{"world": {"confrontation": 0.8}}`` into ``{"world.confrontation": 0.8}``."""
    flat: dict[str, Any] = {}
    for group in groups:
        for name, value in (nested.get(group) or {}).items():
            flat[f"{group}.{name}"] = value
    return flat
