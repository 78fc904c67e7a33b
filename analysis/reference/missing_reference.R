# Reference numbers for missing answers (issue 30): full-information ML (missing = "ml") for ML and MLR, and
# pairwise WLSMV (missing = "pairwise"), from R's lavaan on psych::bfi (all 2,800 rows, NA as missing).
# Run:  Rscript analysis/reference/missing_reference.R > tests/fixtures/missing_reference.tsv
# Needs: apt-get install r-base-core r-cran-lavaan r-cran-semtools r-cran-psych
# Output: one "section<TAB>key<TAB>value" line per number (full precision), as lavaan_reference.R.
suppressPackageStartupMessages({library(lavaan); library(psych)})
out <- function(section, key, value) cat(sprintf("%s\t%s\t%.10g\n", section, key, value))
info <- function(section, key, value) cat(sprintf("%s\t%s\t%s\n", section, key, value))
info("versions", "R", paste(R.version$major, R.version$minor, sep = "."))
info("versions", "lavaan", as.character(packageVersion("lavaan")))

data(bfi, package = "psych")
# groups: lavaan takes them in order of first appearance in the data, as silicon_sample does

ml <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "aic", "bic",
        "logl", "baseline.chisq", "baseline.df", "ntotal")
robust <- c("chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled",
            "cfi.robust", "tli.robust", "rmsea.robust", "baseline.chisq.scaled")
wlsmv <- c("chisq", "df", "chisq.scaled", "df.scaled", "chisq.scaling.factor",
           "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "ntotal")
report <- function(section, fit, measures) {
  fm <- fitMeasures(fit, measures)
  for (m in measures) out(section, m, fm[[m]])
}
loadings <- function(section, fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  group <- if (is.null(pe$group)) rep(1L, nrow(pe)) else pe$group      # single-group fits have no group column
  for (i in which(pe$op == "=~" & group == 1L)) {
    out(paste0(section, "_loading"), paste0(pe$lhs[i], "=~", pe$rhs[i]), pe$est[i])
    out(paste0(section, "_se"), paste0(pe$lhs[i], "=~", pe$rhs[i]), pe$se[i])
    out(paste0(section, "_std"), paste0(pe$lhs[i], "=~", pe$rhs[i]), pe$std.all[i])
  }
}

N <- "N =~ N1 + N2 + N3 + N4 + N5"
E <- "E =~ E1 + E2 + E3 + E4 + E5"
A <- "A =~ A1 + A2 + A3 + A4 + A5"
CO <- "C =~ C1 + C2 + C3 + C4 + C5
       O =~ O1 + O2 + O3 + O4 + O5"

# --- single group, full-information ML --------------------------------------------------------------------------
fit <- cfa(N, data = bfi, missing = "ml")
report("fiml_ml_N", fit, ml); loadings("fiml_ml_N", fit)
fit <- cfa(N, data = bfi, missing = "ml", estimator = "MLR")
report("fiml_mlr_N", fit, c(ml, robust)); loadings("fiml_mlr_N", fit)
fit <- cfa(CO, data = bfi, missing = "ml", estimator = "MLR")
report("fiml_mlr_CO", fit, c(ml, robust)); loadings("fiml_mlr_CO", fit)
fit <- cfa(E, data = bfi, missing = "ml")
report("fiml_ml_E", fit, ml)

# --- measurement invariance by gender, full-information ML -------------------------------------------------------
levels <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"),
               strict = c("loadings", "intercepts", "residuals"))
for (lev in names(levels)) {
  fit <- cfa(A, data = bfi, group = "gender", group.equal = levels[[lev]], missing = "ml", estimator = "MLR")
  report(paste0("fiml_mlr_A_gender_", lev), fit, c(ml, robust))
  fit <- cfa(E, data = bfi, group = "gender", group.equal = levels[[lev]], missing = "ml")
  report(paste0("fiml_ml_E_gender_", lev), fit, ml)
}

# --- pairwise WLSMV --------------------------------------------------------------------------------------------
items_N <- c("N1", "N2", "N3", "N4", "N5")
fit <- cfa(N, data = bfi, ordered = items_N, estimator = "WLSMV", missing = "pairwise")
report("pairwise_wlsmv_N", fit, wlsmv); loadings("pairwise_wlsmv_N", fit)
items_E <- c("E1", "E2", "E3", "E4", "E5")
fit <- cfa(E, data = bfi, ordered = items_E, estimator = "WLSMV", missing = "pairwise")
report("pairwise_wlsmv_E", fit, wlsmv)
fit <- cfa(CO, data = bfi, ordered = c(paste0("C", 1:5), paste0("O", 1:5)), estimator = "WLSMV",
           missing = "pairwise")
report("pairwise_wlsmv_CO", fit, wlsmv)

# --- listwise stays as it was -------------------------------------------------------------------------------------
fit <- cfa(N, data = bfi)
report("listwise_ml_N", fit, ml)

# --- omega total of a one-factor model fitted by full-information ML: (sum of loadings)^2 phi / (... + sum theta)
omega <- function(fit) {
  pe <- parameterEstimates(fit)
  lambda <- pe$est[pe$op == "=~"]
  phi <- pe$est[pe$op == "~~" & pe$lhs == pe$rhs & pe$lhs == pe$lhs[pe$op == "=~"][1]]
  theta <- pe$est[pe$op == "~~" & pe$lhs == pe$rhs & pe$lhs %in% pe$rhs[pe$op == "=~"]]
  sum(lambda)^2 * phi / (sum(lambda)^2 * phi + sum(theta))
}
out("fiml_omega", "neuroticism", omega(cfa(N, data = bfi, missing = "ml")))
bfi_keyed <- bfi
bfi_keyed$A1 <- 7 - bfi_keyed$A1                     # reverse-keyed on the 1-6 scale
out("fiml_omega", "agreeableness", omega(cfa(A, data = bfi_keyed, missing = "ml")))

# --- timing (issue 30, part 4): the five bfi factors by gender, configural, metric and scalar, missing = "ml"
big5 <- "A =~ A1 + A2 + A3 + A4 + A5
         C =~ C1 + C2 + C3 + C4 + C5
         E =~ E1 + E2 + E3 + E4 + E5
         N =~ N1 + N2 + N3 + N4 + N5
         O =~ O1 + O2 + O3 + O4 + O5"
for (estimator in c("ML", "MLR")) {
  started <- proc.time()[["elapsed"]]
  for (lev in c("configural", "metric", "scalar")) {
    fit <- cfa(big5, data = bfi, group = "gender", group.equal = levels[[lev]], missing = "ml",
               estimator = estimator)
    report(paste0("fiml_", tolower(estimator), "_big5_gender_", lev), fit,
           if (estimator == "MLR") c(ml, robust) else ml)
  }
  out("timing", paste0("bfi_big5_gender_fiml_", tolower(estimator), "_seconds"),
      proc.time()[["elapsed"]] - started)
}
