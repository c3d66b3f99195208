#!/usr/bin/env Rscript
# Golden reference values for gaussaudit, computed in R.
#
# Run from the repository root (after tests/golden/make_data.py):
#
#     Rscript tests/golden/make_golden.R
#
# Reads tests/golden/data/*.csv and writes tests/golden/r_golden.json.
#
# Per dataset and per column:
#   nortest::ad.test      -> statistic A, p-value
#   nortest::lillie.test  -> statistic D, p-value
#   stats::shapiro.test   -> W, p-value            (only where 3 <= n <= 5000)
# Per dataset (all but gauss_n6000_d2):
#   Mardia multivariate skewness / kurtosis and Henze-Zirkler, written here
#   directly in base R in plain n x n matrix form (an independent reference
#   for the blockwise Python implementation), following the conventions of
#   the R package MVN.
#
# Comparison with the published MVN source (checked against MVN 6.1,
# github.com/selcukorkmaz/MVN R/mardia.R and R/hz.R, and the older MVN 5.x
# R/mvn.R as mirrored at github.com/cran/MVN):
#   * Covariance: S = ((n-1)/n) * cov(X)  (MVN default use_population=TRUE);
#     solve(S, tol = 1e-25) as in MVN.
#   * Mardia small-sample factor (n < 20):
#       k = ((p+1)(n+1)(n+3)) / (n*((n+1)(p+1) - 6))
#     This is MVN 6.x and the formula in the brief.  MVN 5.x had a
#     precedence slip, k = ((p+1)(n+1)(n+3)) / (n*(n+1)*(p+1) - 6), which
#     gives a slightly different corrected skewness for n < 20.  We follow
#     MVN 6.x.
#   * Mardia kurtosis p-value: MVN 6.x uses 2*pnorm(|z|, lower.tail=FALSE),
#     MVN 5.x used 2*(1 - pnorm(|z|)).  Identical except for cancellation
#     when the p-value is tiny.  We follow MVN 6.x ("p_kurt") and also
#     record the 1-minus form ("p_kurt_1minus").
#   * Henze-Zirkler p-value: MVN 6.x uses plnorm(HZ, pmu, psi,
#     lower.tail=FALSE); MVN 5.x (and the brief) 1 - plnorm(HZ, pmu, psi).
#     Same story: we follow MVN 6.x ("p_value") and also record the 1-minus
#     form ("p_value_1minus").
#   * Henze-Zirkler Djk: MVN 5.x built Y from the *uncentred* data,
#     MVN 6.x uses the centred data with outer(Dj, Dj, "+") - 2*D.  Djk =
#     (x_j - x_k)' S^-1 (x_j - x_k) is translation invariant, so both are
#     the same quantity; we use the centred data and the matrix form of the
#     brief.  MVN 5.x also returned HZ = 4n when S was rank deficient; that
#     cannot happen for these datasets and is not reproduced.
#   * Smoothing parameter: beta = 1/sqrt(2) * ((n(2p+1))/4)^(1/(p+4)),
#     algebraically identical to MVN's n^(1/(p+4)) * ((2p+1)/4)^(1/(p+4)) /
#     sqrt(2) (may differ in the last bit or so).
#
# JSON is written by hand with sprintf("%.17g") so that every double
# round-trips exactly (non-finite values are written as null).

suppressPackageStartupMessages(library(nortest))

args_all <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
golden_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else file.path("tests", "golden")
data_dir <- file.path(golden_dir, "data")
out_path <- file.path(golden_dir, "r_golden.json")

datasets <- c("gauss_n50_d4", "mixed_n200_d5", "gauss_n15_d3",
              "heavy_n300_d3", "gauss_n6000_d2")
no_multivariate <- c("gauss_n6000_d2")

# ---------------------------------------------------------------- reading
read_data <- function(path) {
  x <- as.matrix(read.csv(path, header = TRUE, colClasses = "numeric"))
  # Check that R parsed every value to the exact double Python wrote:
  # glibc printf("%.17g") is correctly rounded, so re-printing must give
  # back the original token text.
  tok <- as.matrix(read.csv(path, header = TRUE, colClasses = "character"))
  n_mismatch <- sum(sprintf("%.17g", x) != tok)
  list(x = x, n_mismatch = n_mismatch)
}

# ---------------------------------------------------------------- univariate
univariate <- function(v) {
  n <- length(v)
  ad <- nortest::ad.test(v)
  li <- nortest::lillie.test(v)
  res <- list(
    ad = list(statistic = unname(ad$statistic), p_value = ad$p.value),
    lillie = list(statistic = unname(li$statistic), p_value = li$p.value)
  )
  if (n >= 3 && n <= 5000) {
    sw <- stats::shapiro.test(v)
    res$shapiro <- list(statistic = unname(sw$statistic), p_value = sw$p.value)
  }
  res
}

# ---------------------------------------------------------------- Mardia
mardia_ref <- function(X) {
  n <- nrow(X); p <- ncol(X)
  Xc <- scale(X, center = TRUE, scale = FALSE)
  S <- cov(X) * (n - 1) / n
  D <- Xc %*% solve(S, tol = 1e-25) %*% t(Xc)
  g1p <- sum(D^3) / n^2
  g2p <- sum(diag(D)^2) / n
  df <- p * (p + 1) * (p + 2) / 6
  k <- ((p + 1) * (n + 1) * (n + 3)) / (n * ((n + 1) * (p + 1) - 6))
  small <- n < 20
  skew <- if (small) n * k * g1p / 6 else n * g1p / 6
  p_skew <- pchisq(skew, df, lower.tail = FALSE)
  kurt <- (g2p - p * (p + 2)) * sqrt(n / (8 * p * (p + 2)))
  p_kurt <- 2 * pnorm(abs(kurt), lower.tail = FALSE)
  list(
    g1p = g1p, g2p = g2p,
    skew_df = df,
    small_sample_k = k,
    small_sample_correction = small,
    skew_statistic_uncorrected = n * g1p / 6,
    skew_statistic = skew, p_skew = p_skew,
    kurt_statistic = kurt, p_kurt = p_kurt,
    p_kurt_1minus = 2 * (1 - pnorm(abs(kurt)))
  )
}

# ---------------------------------------------------------------- Henze-Zirkler
hz_ref <- function(X) {
  n <- nrow(X); p <- ncol(X)
  Xc <- scale(X, center = TRUE, scale = FALSE)
  S <- cov(X) * (n - 1) / n
  Sinv <- solve(S, tol = 1e-25)
  beta <- 1 / sqrt(2) * ((n * (2 * p + 1)) / 4)^(1 / (p + 4))
  D <- Xc %*% Sinv %*% t(Xc)
  Dj <- diag(D)
  Y <- Xc %*% Sinv %*% t(Xc)
  Djk <- -2 * t(Y) +
    matrix(diag(t(Y))) %*% matrix(c(rep(1, n)), 1, n) +
    matrix(c(rep(1, n)), n, 1) %*% matrix(diag(t(Y)), 1, n)
  HZ <- n * (1 / (n^2) * sum(exp(-(beta^2) / 2 * Djk)) -
             2 * ((1 + (beta^2))^(-p / 2)) * (1 / n) *
               (sum(exp(-((beta^2) / (2 * (1 + (beta^2)))) * Dj))) +
             ((1 + (2 * (beta^2)))^(-p / 2)))
  a <- 1 + 2 * beta^2
  wb <- (1 + beta^2) * (1 + 3 * beta^2)
  mu <- 1 - a^(-p / 2) * (1 + p * beta^2 / a + (p * (p + 2) * (beta^4)) / (2 * a^2))
  si2 <- 2 * (1 + 4 * beta^2)^(-p / 2) +
    2 * a^(-p) * (1 + (2 * p * beta^4) / a^2 + (3 * p * (p + 2) * beta^8) / (4 * a^4)) -
    4 * wb^(-p / 2) * (1 + (3 * p * beta^4) / (2 * wb) + (p * (p + 2) * beta^8) / (2 * wb^2))
  pmu <- log(sqrt(mu^4 / (si2 + mu^2)))
  psi <- sqrt(log((si2 + mu^2) / mu^2))
  list(
    statistic = HZ,
    p_value = plnorm(HZ, pmu, psi, lower.tail = FALSE),
    p_value_1minus = 1 - plnorm(HZ, pmu, psi),
    beta = beta, mu = mu, si2 = si2,
    lognormal_meanlog = pmu, lognormal_sdlog = psi
  )
}

# ---------------------------------------------------------------- JSON writer
json_str <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  paste0("\"", s, "\"")
}
json_scalar <- function(v) {
  if (is.character(v)) return(json_str(v))
  if (is.logical(v)) return(if (is.na(v)) "null" else if (v) "true" else "false")
  if (is.numeric(v)) {
    if (!is.finite(v)) return("null")
    if (is.integer(v)) return(sprintf("%d", v))
    return(sprintf("%.17g", v))
  }
  stop("unsupported type")
}
to_json <- function(x, indent = 0) {
  pad <- strrep("  ", indent + 1); pad0 <- strrep("  ", indent)
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, character(1), indent = indent + 1)
    if (!is.null(names(x))) {
      items <- paste0(json_str(names(x)), ": ", items)
      return(paste0("{\n", paste0(pad, items, collapse = ",\n"), "\n", pad0, "}"))
    }
    return(paste0("[\n", paste0(pad, items, collapse = ",\n"), "\n", pad0, "]"))
  }
  if (length(x) == 1 && is.null(attr(x, "as_array"))) return(json_scalar(x))
  paste0("[", paste(vapply(x, json_scalar, character(1)), collapse = ", "), "]")
}
as_array <- function(x) { attr(x, "as_array") <- TRUE; x }

# ---------------------------------------------------------------- main
result <- list()
result$meta <- list(
  R_version_string = R.version.string,
  nortest_version = as.character(packageVersion("nortest")),
  generated_by = "tests/golden/make_golden.R",
  data_generated_by = "tests/golden/make_data.py (numpy default_rng(20261123))",
  covariance = "S = cov(X) * (n - 1) / n (MVN use_population = TRUE)",
  mvn_conventions = "MVN 6.x (selcukorkmaz/MVN R/mardia.R, R/hz.R); see header comment of make_golden.R",
  shapiro_max_n = 5000L,
  float_format = "%.17g"
)

out <- list()
for (name in datasets) {
  path <- file.path(data_dir, paste0(name, ".csv"))
  rd <- read_data(path)
  X <- rd$x
  if (rd$n_mismatch != 0)
    warning(sprintf("%s: %d values did not round-trip exactly", name, rd$n_mismatch))
  entry <- list(
    file = paste0("data/", name, ".csv"),
    n = nrow(X), d = ncol(X),
    csv_values_not_roundtripped = rd$n_mismatch,
    columns = list()
  )
  for (j in seq_len(ncol(X))) {
    entry$columns[[colnames(X)[j]]] <- univariate(X[, j])
  }
  if (!(name %in% no_multivariate)) {
    entry$mardia <- mardia_ref(X)
    entry$henze_zirkler <- hz_ref(X)
  }
  out[[name]] <- entry
  cat(sprintf("%-16s n=%5d d=%d done\n", name, nrow(X), ncol(X)))
}
result$datasets <- out

writeLines(to_json(result), out_path)
cat("wrote", out_path, "\n")

# sanity check: parse back with jsonlite if it is installed
if (requireNamespace("jsonlite", quietly = TRUE)) {
  back <- jsonlite::fromJSON(out_path, simplifyVector = FALSE)
  stopifnot(identical(back$datasets$gauss_n50_d4$henze_zirkler$statistic,
                      out$gauss_n50_d4$henze_zirkler$statistic))
  cat("jsonlite parse-back OK\n")
}
