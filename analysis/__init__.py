"""Analysis of model ensembles: statistics, sensitivity analysis, scenario discovery."""
