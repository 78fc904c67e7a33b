# The fits of silicon-sample's anchored comparison, done by lavaan and psych, timed (issue 32): the ceiling the
# analysis bench compares `compare` and `rank` with (silicon_sample/throughput/analysis_speed.py).
# Run:  Rscript analysis/reference/analysis_speed.R SILICON.csv HUMAN.csv
#   SILICON.csv: a run's wide results (one row per persona x style x cue x model; items A1 ... O5)
#   HUMAN.csv:   the psych_bfi baseline (items, gender, age_band, education)
# Needs: apt-get install r-base-core r-cran-lavaan r-cran-semtools r-cran-psych
# Prints "seconds<TAB>S" (the fits' elapsed time, data loading excluded) and the versions.
# For every model-persona pair (n silicon respondents), what the anchored comparison fits:
#   - the invariance sequence silicon vs humans: configural, metric, scalar, strict (lavaan, MLR, missing = "ml");
#   - the same sequence for n humans against the other N - n (the invariance ceiling; once per n, as ours is);
#   - one-factor ML loadings of each scale (psych::fa, fm = "ml") for the pair, its 20 structure resamples,
#     3 uniform floors, 3 marginal floors and 3 human splits (both halves; once per n).
suppressPackageStartupMessages({library(lavaan); library(psych)})
args <- commandArgs(trailingOnly = TRUE)
silicon <- read.csv(args[1], stringsAsFactors = FALSE)
human <- read.csv(args[2], stringsAsFactors = FALSE)
scales <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5), N = paste0("N", 1:5),
               O = paste0("O", 1:5))
items <- unlist(scales)
model <- paste(sprintf("%s =~ %s", names(scales), sapply(scales, paste, collapse = " + ")), collapse = "\n")
levels <- list(configural = character(0), metric = "loadings", scalar = c("loadings", "intercepts"),
               strict = c("loadings", "intercepts", "residuals"))
set.seed(0)
counts <- list(cfa = 0, cfa_failed = 0, fa = 0, fa_failed = 0)

invariance <- function(a, b) {
  both <- rbind(data.frame(a[, items], source = "human"), data.frame(b[, items], source = "silicon"))
  for (eq in levels) {
    fit <- try(cfa(model, data = both, group = "source", group.equal = eq, estimator = "MLR", missing = "ml"),
               silent = TRUE)
    counts[["cfa"]] <<- counts[["cfa"]] + 1
    if (inherits(fit, "try-error") || !lavInspect(fit, "converged")) counts[["cfa_failed"]] <<- counts[["cfa_failed"]] + 1
  }
}
loadings <- function(frame) {
  for (s in scales) {
    x <- frame[, s]
    fit <- try(suppressWarnings(fa(x, nfactors = 1, fm = "ml", warnings = FALSE)), silent = TRUE)
    counts[["fa"]] <<- counts[["fa"]] + 1
    if (inherits(fit, "try-error")) counts[["fa_failed"]] <<- counts[["fa_failed"]] + 1
  }
}
uniform <- function(frame) { for (i in items) frame[[i]] <- sample(1:6, nrow(frame), replace = TRUE); frame }
marginal <- function(frame) {
  for (i in items) {
    answered <- human[[i]][!is.na(human[[i]])]
    frame[[i]] <- sample(answered, nrow(frame), replace = TRUE)
  }
  frame
}

pair_columns <- intersect(c("model", "persona_style", "cue_type", "perturbation"), names(silicon))
pairs <- split(silicon, silicon[, pair_columns, drop = FALSE], drop = TRUE)
ceilings_done <- c()
elapsed <- system.time({
  for (pair in pairs) {
    n <- nrow(pair)
    invariance(human, pair)
    loadings(pair)
    for (b in 1:20) loadings(pair[sample(n, n, replace = TRUE), ])
    for (r in 1:3) { loadings(uniform(pair)); loadings(marginal(pair)) }
    if (!(n %in% ceilings_done)) {
      ceilings_done <- c(ceilings_done, n)
      pick <- sample(nrow(human), n)
      invariance(human[-pick, ], human[pick, ])
      for (r in 1:3) { pick <- sample(nrow(human), n); loadings(human[pick, ]); loadings(human[-pick, ]) }
    }
  }
})[["elapsed"]]
cat(sprintf("pairs\t%d\n", length(pairs)))
for (k in names(counts)) cat(sprintf("%s\t%d\n", k, counts[[k]]))
cat(sprintf("lavaan\t%s\n", as.character(packageVersion("lavaan"))))
cat(sprintf("psych\t%s\n", as.character(packageVersion("psych"))))
cat(sprintf("seconds\t%.2f\n", elapsed))
