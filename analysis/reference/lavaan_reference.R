# Reference numbers for silicon_sample.psychometrics, from R's lavaan, semTools and psych.
# Run:  Rscript analysis/reference/lavaan_reference.R > tests/fixtures/lavaan_reference.tsv
# Needs: apt-get install r-base-core r-cran-lavaan r-cran-semtools r-cran-psych
# Output: one "section<TAB>key<TAB>value" line per number (full precision).
suppressPackageStartupMessages({library(lavaan); library(psych)})
out <- function(section, key, value) cat(sprintf("%s\t%s\t%.10g\n", section, key, value))
info <- function(section, key, value) cat(sprintf("%s\t%s\t%s\n", section, key, value))
info("versions", "R", paste(R.version$major, R.version$minor, sep = "."))
info("versions", "lavaan", as.character(packageVersion("lavaan")))
info("versions", "semTools", as.character(packageVersion("semTools")))
info("versions", "psych", as.character(packageVersion("psych")))

measures <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
              "srmr", "aic", "bic", "logl", "baseline.chisq", "baseline.df")
report <- function(section, fit) {
  fm <- fitMeasures(fit, measures)
  for (m in measures) out(section, m, fm[[m]])
}

# --- Holzinger-Swineford 1939: single group (lavaan tutorial) -------------------------------
HS.model <- "visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9"
fit <- cfa(HS.model, data = HolzingerSwineford1939)
report("hs_single", fit)
std <- standardizedSolution(fit)
for (i in which(std$op == "=~")) out("hs_single_std_loading", paste0(std$lhs[i], "=~", std$rhs[i]), std$est.std[i])

# --- Measurement invariance across school (group order: Pasteur, Grant-White) ----------------
levels <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"),
               strict = c("loadings", "intercepts", "residuals"))
for (lev in names(levels)) {
  fit <- cfa(HS.model, data = HolzingerSwineford1939, group = "school", group.equal = levels[[lev]])
  report(paste0("hs_school_", lev), fit)
}

# --- Partial scalar invariance: free the equality constraint with the largest score test,
#     one at a time, until the Chen (2007) criterion against the metric model holds ----------
metric <- cfa(HS.model, data = HolzingerSwineford1939, group = "school", group.equal = "loadings")
fm.metric <- fitMeasures(metric, c("cfi", "rmsea", "srmr"))
freed <- character(0)
repeat {
  fit <- cfa(HS.model, data = HolzingerSwineford1939, group = "school",
             group.equal = c("loadings", "intercepts"), group.partial = freed)
  fm <- fitMeasures(fit, c("cfi", "rmsea", "srmr"))
  d.cfi <- fm[["cfi"]] - fm.metric[["cfi"]]; d.rmsea <- fm[["rmsea"]] - fm.metric[["rmsea"]]
  d.srmr <- fm[["srmr"]] - fm.metric[["srmr"]]
  fails <- d.cfi <= -0.010 && (d.rmsea >= 0.015 || d.srmr >= 0.010)
  if (!fails) break
  score <- lavTestScore(fit)$uni
  pt <- parTable(fit)
  # map each equality constraint (.pN. == .pM.) to the intercept/loading it frees
  plabel <- setNames(paste0(pt$lhs, pt$op, pt$rhs), pt$plabel)
  lhs.par <- plabel[score$lhs]
  # only constraints on intercepts may be released at the scalar step
  is.int <- grepl("~1$", lhs.par)
  best <- which(is.int)[which.max(score$X2[is.int])]
  out("hs_partial_scalar_score", lhs.par[[best]], score$X2[best])
  freed <- c(freed, lhs.par[[best]])
}
info("hs_partial_scalar", "freed", paste(freed, collapse = ","))
report("hs_partial_scalar", fit)
# strict invariance keeping the intercepts released at the scalar step free
fit <- cfa(HS.model, data = HolzingerSwineford1939, group = "school",
           group.equal = c("loadings", "intercepts", "residuals"), group.partial = freed)
report("hs_partial_strict", fit)

# --- psych::bfi reliability (raw alpha, no imputation) --------------------------------------
keys <- list(agreeableness = c("-A1", "A2", "A3", "A4", "A5"),
             conscientiousness = c("C1", "C2", "C3", "-C4", "-C5"),
             extraversion = c("-E1", "-E2", "E3", "E4", "E5"),
             neuroticism = c("N1", "N2", "N3", "N4", "N5"),
             openness = c("O1", "-O2", "O3", "O4", "-O5"))
items <- bfi[, 1:25]
scores <- scoreItems(keys, items, impute = "none")
for (s in names(keys)) {
  out("bfi_alpha", s, scores$alpha[1, s])
  out("bfi_scoreitems_av_r", s, scores$av.r[1, s])     # implied by raw alpha: alpha / (k - alpha (k - 1))
}
for (s in names(keys)) {
  k <- keys[[s]]; names <- sub("^-", "", k)
  x <- items[, names]
  for (j in seq_along(k)) if (startsWith(k[j], "-")) x[, j] <- 7 - x[, j]
  a <- psych::alpha(x, check.keys = FALSE, warnings = FALSE)
  out("bfi_mean_inter_item_r", s, a$total$average_r)   # mean off-diagonal (pairwise) correlation
  for (n in names) {
    out("bfi_r_drop", paste0(s, ":", n), a$item.stats[n, "r.drop"])
    out("bfi_alpha_drop", paste0(s, ":", n), a$alpha.drop[n, "raw_alpha"])
  }
  # omega total from a one-factor ML model on the complete cases of the scale
  model <- paste("f =~", paste(names, collapse = " + "))
  f1 <- cfa(model, data = x, std.lv = TRUE, missing = "listwise")
  est <- parameterEstimates(f1)
  lam <- est$est[est$op == "=~"]
  theta <- est$est[est$op == "~~" & est$lhs == est$rhs & est$lhs %in% names]
  out("bfi_omega_total", s, sum(lam)^2 / (sum(lam)^2 + sum(theta)))
  out("bfi_n_complete", s, lavInspect(f1, "nobs"))
}

# ============================================================================================
# Robust ML (MLR) and ordinal WLSMV (issue 12). Names follow fitMeasures(); NA where lavaan gives NA.
# ============================================================================================
suppressPackageStartupMessages(library(semTools))
robust <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
            "chisq.shift.parameter", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled", "rmsea.scaled",
            "cfi.robust", "tli.robust", "rmsea.robust", "srmr", "baseline.chisq", "baseline.df",
            "baseline.chisq.scaled", "baseline.chisq.scaling.factor")
report_robust <- function(section, fit) {
  fm <- fitMeasures(fit)
  for (m in setdiff(robust, "chisq.shift.parameter")) out(section, m, if (m %in% names(fm)) fm[[m]] else NA)
  ss <- lavInspect(fit, "test")$scaled.shifted    # fitMeasures() does not list the shift parameter
  out(section, "chisq.shift.parameter", if (is.null(ss)) NA else ss$shift.parameter)
}
# every parameter: estimate, standard error and std.all, keyed lhs op rhs (and .g<group> with groups)
report_estimates <- function(section, fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  grp <- if ("group" %in% names(pe)) paste0(".g", pe$group) else ""
  key <- paste0(pe$lhs, pe$op, pe$rhs, grp)
  for (i in seq_len(nrow(pe))) {
    out(paste0(section, "_est"), key[i], pe$est[i])
    out(paste0(section, "_se"), key[i], pe$se[i])
    out(paste0(section, "_std"), key[i], pe$std.all[i])
  }
}
report_diff <- function(section, restricted, free) {
  t <- lavTestLRT(free, restricted)
  out(section, "delta_chisq", t[2, "Chisq diff"])
  out(section, "delta_df", t[2, "Df diff"])
  out(section, "p_delta_chisq", t[2, "Pr(>Chisq)"])
}

# --- MLR: Holzinger-Swineford, one group and by school ---------------------------------------
fit <- cfa(HS.model, data = HolzingerSwineford1939, estimator = "MLR")
report_robust("hs_mlr", fit)
report_estimates("hs_mlr", fit)
mlr <- list()
for (lev in names(levels)) {
  mlr[[lev]] <- cfa(HS.model, data = HolzingerSwineford1939, group = "school", group.equal = levels[[lev]],
                    estimator = "MLR")
  report_robust(paste0("hs_school_mlr_", lev), mlr[[lev]])
}
report_diff("hs_school_mlr_diff_metric", mlr$metric, mlr$configural)      # satorra.bentler.2001
report_diff("hs_school_mlr_diff_scalar", mlr$scalar, mlr$metric)
report_diff("hs_school_mlr_diff_strict", mlr$strict, mlr$scalar)

# --- WLSMV: psych::bfi complete cases on the 25 items and gender (n = 2436) -----------------
# lavaan takes the groups of an integer column in order of first appearance.
d <- bfi[complete.cases(bfi[, c(1:25, 26)]), c(1:25, 26)]
info("bfi_complete", "n", nrow(d))
N.items <- paste0("N", 1:5)
N.model <- paste("N =~", paste(N.items, collapse = " + "))
fit <- cfa(N.model, data = d, ordered = N.items, estimator = "WLSMV")
report_robust("bfi_n_wlsmv", fit)
report_estimates("bfi_n_wlsmv", fit)
fit <- cfa(N.model, data = d, ordered = N.items, estimator = "WLSMV", parameterization = "theta")
report_robust("bfi_n_wlsmv_theta", fit)
report_estimates("bfi_n_wlsmv_theta", fit)
fit <- cfa(N.model, data = d, estimator = "MLR")
report_robust("bfi_n_mlr", fit)
pc <- lavCor(d[, N.items], ordered = N.items, output = "fit")
th <- lavInspect(pc, "sampstat")$th
for (i in seq_along(th)) out("bfi_n_thresholds", names(th)[i], th[[i]])
rho <- lavInspect(pc, "sampstat")$cov
for (i in 1:4) for (j in (i + 1):5) out("bfi_n_polychoric", paste0(N.items[i], "~~", N.items[j]), rho[i, j])
nacov <- lavInspect(cfa(N.model, data = d, ordered = N.items, estimator = "WLSMV"), "gamma")
# N times the asymptotic covariance of (thresholds N1|t1..N5|t5, then polychorics N1~~N2, N1~~N3, ...)
out("bfi_n_gamma", "diag_sum", sum(diag(nacov)))
out("bfi_n_gamma", "th1_th1", nacov[1, 1])
out("bfi_n_gamma", "r12_r12", nacov[26, 26])
out("bfi_n_gamma", "th1_r12", nacov[1, 26])
out("bfi_n_gamma", "r12_r13", nacov[26, 27])

big5 <- "A =~ A1 + A2 + A3 + A4 + A5
         C =~ C1 + C2 + C3 + C4 + C5
         E =~ E1 + E2 + E3 + E4 + E5
         N =~ N1 + N2 + N3 + N4 + N5
         O =~ O1 + O2 + O3 + O4 + O5"
all.items <- names(bfi)[1:25]
fit <- cfa(big5, data = d, ordered = all.items, estimator = "WLSMV")
report_robust("bfi_big5_wlsmv", fit)
# The first 30 complete cases on four factors: their polychoric matrix is not positive definite, and
# lavaan reports no robust (catML) CFI/TLI/RMSEA.
big4 <- "A =~ A1 + A2 + A3 + A4 + A5
         C =~ C1 + C2 + C3 + C4 + C5
         E =~ E1 + E2 + E3 + E4 + E5
         N =~ N1 + N2 + N3 + N4 + N5"
fit <- cfa(big4, data = d[1:30, ], ordered = all.items[1:20], estimator = "WLSMV")
out("bfi_first30", "min_eigenvalue", min(eigen(lavInspect(fit, "sampstat")$cov)$values))
report_robust("bfi_first30_wlsmv", fit)

# --- WLSMV invariance by gender: measEq.syntax, theta, std.lv, Wu & Estabrook (2016) ----------
cat_levels <- list(configural = "", thresholds = "thresholds", metric = c("thresholds", "loadings"),
                   scalar = c("thresholds", "loadings", "intercepts"),
                   strict = c("thresholds", "loadings", "intercepts", "residuals"))
invariance_wlsmv <- function(prefix, model, items, data = d) {
  fits <- list()
  for (lev in names(cat_levels)) {
    syntax <- measEq.syntax(configural.model = model, data = data, ordered = items, parameterization = "theta",
                            ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = "gender",
                            group.equal = cat_levels[[lev]])
    fits[[lev]] <- cfa(as.character(syntax), data = data, group = "gender", ordered = items, estimator = "WLSMV",
                       parameterization = "theta")
    report_robust(paste0(prefix, "_", lev), fits[[lev]])
  }
  for (k in 2:length(fits))                                             # satorra.2000
    report_diff(paste0(prefix, "_diff_", names(fits)[k]), fits[[k]], fits[[k - 1]])
  fits
}
fits <- invariance_wlsmv("bfi_n_gender_wlsmv", N.model, N.items)
report_estimates("bfi_n_gender_wlsmv_metric", fits$metric)
t0 <- Sys.time()
invisible(invariance_wlsmv("bfi_big5_gender_wlsmv", big5, all.items))
info("timing", "bfi_big5_gender_wlsmv_seconds", format(as.numeric(Sys.time() - t0, units = "secs")))

# --- Coarser items: binary (N items split at >= 4) and 3 categories (1-2, 3-4, 5-6) ------------------
# Wu & Estabrook treat binary items apart: equal thresholds free the intercepts only; equal intercepts
# then free the residual variances.
binary <- d
for (i in N.items) binary[[i]] <- as.integer(binary[[i]] >= 4)
fit <- cfa(N.model, data = binary, ordered = N.items, estimator = "WLSMV")
report_robust("bfi_n_binary_wlsmv", fit)
fit <- cfa(N.model, data = binary, ordered = N.items, estimator = "WLSMV", parameterization = "theta")
report_robust("bfi_n_binary_wlsmv_theta", fit)
invisible(invariance_wlsmv("bfi_n_binary_gender_wlsmv", N.model, N.items, binary))
three <- d
for (i in all.items) three[[i]] <- as.integer(cut(three[[i]], c(0, 2, 4, 6)))
E.items <- paste0("E", 1:5)
invisible(invariance_wlsmv("bfi_e_three_gender_wlsmv", paste("E =~", paste(E.items, collapse = " + ")), E.items,
                           three))
fit <- cfa(paste(N.model, "\nE =~", paste(E.items, collapse = " + ")), data = three, ordered = c(N.items, E.items),
           estimator = "WLSMV")
report_robust("bfi_ne_three_wlsmv", fit)

# --- MLR invariance of Neuroticism by gender (continuous levels) ---------------------------------------
mlr <- list()
for (lev in names(levels)) {
  mlr[[lev]] <- cfa(N.model, data = d, group = "gender", group.equal = levels[[lev]], estimator = "MLR")
  report_robust(paste0("bfi_n_gender_mlr_", lev), mlr[[lev]])
}
report_diff("bfi_n_gender_mlr_diff_metric", mlr$metric, mlr$configural)
report_diff("bfi_n_gender_mlr_diff_scalar", mlr$scalar, mlr$metric)
report_diff("bfi_n_gender_mlr_diff_strict", mlr$strict, mlr$scalar)

# --- Ordinal reliability on psych's conventions: polychoric correlations (psych::polychoric) ----
for (s in names(keys)) {
  names <- sub("^-", "", keys[[s]])
  x <- bfi[, names]
  for (j in seq_along(keys[[s]])) if (startsWith(keys[[s]][j], "-")) x[, j] <- 7 - x[, j]
  rho <- polychoric(x)$rho
  out("bfi_ordinal_alpha", s, psych::alpha(rho, warnings = FALSE)$total$raw_alpha)
  f1 <- fa(rho, nfactors = 1, fm = "minres")
  out("bfi_ordinal_omega", s, (sum(rho) - sum(f1$uniquenesses)) / sum(rho))   # psych's omega.tot
}

# --- One-factor loadings on polychoric correlations (psych::fa.poly's convention: an ML factor analysis
#     of the polychoric matrix), complete cases of N1-N5: the structure table's loadings under WLSMV ----
x <- na.omit(bfi[, N.items])
f1 <- fa(polychoric(x)$rho, nfactors = 1, fm = "ml")
for (j in seq_along(N.items)) out("bfi_n_polychoric_ml_loading", N.items[j], f1$loadings[j, 1])
