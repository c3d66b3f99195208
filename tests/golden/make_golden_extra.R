#!/usr/bin/env Rscript
# Golden reference values for the Cramer-von Mises, energy, Doornik-Hansen and
# Royston tests, computed in R.
#
# Run from the repository root (the CSVs come from tests/golden/make_data.py):
#
#     Rscript tests/golden/make_golden_extra.R
#
# Reads tests/golden/data/*.csv and writes tests/golden/r_golden_extra.json.
#
# Per dataset and column:
#   nortest::cvm.test      -> W statistic, p-value
#   stats::shapiro.test    -> W        (n <= 5000)
#   nortest::sf.test       -> W'       (n <= 5000)
# Per dataset:
#   energy::mvnorm.e(X)    -> E statistic; energy::mvnorm.e(X[, 1]) (the d = 1
#                             path, energy::normal.e); energy::mvnorm.etest(X,
#                             R = 999) p-value after set.seed(20261203)
#                             (a Monte Carlo value: Python can only agree
#                             within sampling error)
#   Doornik-Hansen         -> written below in base R from Doornik & Hansen
#                             (2008), Section 3, with R's conventions of the
#                             MVN package (cov with denominator n - 1,
#                             symmetric inverse root of the correlation
#                             matrix, biased moments)
#   Royston H              -> written below in base R from Royston (1983,
#                             1992) with the MVN conventions: W from
#                             shapiro.test, or W' from nortest::sf.test when
#                             the kurtosis m4/m2^2 exceeds 3; the n <= 11
#                             transform for small samples; edf from the
#                             correlations with u = 0.715, l = 5.
#                             n <= 2000 only (Royston's range).
# Extra Royston-only subsets exercise the small-sample branch (n = 10, 11).
#
# Neither the MVN package (not packaged for Debian) nor any Python code was
# used to write these formulas. JSON is written with sprintf("%.17g") so every
# double round-trips exactly (non-finite values become null).

suppressPackageStartupMessages({
  library(nortest)
  library(energy)
})

args_all <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
golden_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else file.path("tests", "golden")
data_dir <- file.path(golden_dir, "data")
out_path <- file.path(golden_dir, "r_golden_extra.json")

datasets <- c("gauss_n50_d4", "mixed_n200_d5", "gauss_n15_d3",
              "heavy_n300_d3", "gauss_n6000_d2")
# Royston-only row subsets: name -> (dataset, rows)
subsets <- list(
  gauss_n15_d3_first10 = list(dataset = "gauss_n15_d3", rows = 1:10),
  mixed_n200_d5_first11 = list(dataset = "mixed_n200_d5", rows = 1:11)
)
etest_seed <- 20261203L
etest_R <- 999L

read_data <- function(name) {
  as.matrix(read.csv(file.path(data_dir, paste0(name, ".csv")), header = TRUE,
                     colClasses = "numeric"))
}

# ---------------------------------------------------------------- moments
central <- function(v, k) mean((v - mean(v))^k)
skewness_b <- function(v) central(v, 3) / central(v, 2)^1.5   # sqrt(b1), biased
kurtosis_b <- function(v) central(v, 4) / central(v, 2)^2     # b2, not excess

# ---------------------------------------------------------------- Doornik-Hansen
dh_ref <- function(X) {
  n <- nrow(X); p <- ncol(X)
  Xc <- sweep(X, 2, colMeans(X))
  S <- crossprod(Xc) / (n - 1)
  V <- diag(1 / sqrt(diag(S)), p)
  C <- V %*% S %*% V
  e <- eigen(C, symmetric = TRUE)
  root <- e$vectors %*% diag(1 / sqrt(e$values), p) %*% t(e$vectors)
  Y <- Xc %*% V %*% root                      # rows y_j' = (C^-1/2 V x~_j)'
  rb1 <- apply(Y, 2, skewness_b)
  b2 <- apply(Y, 2, kurtosis_b)
  # skewness: D'Agostino (1970), Doornik & Hansen eq. (2)
  beta <- 3 * (n^2 + 27 * n - 70) * (n + 1) * (n + 3) /
    ((n - 2) * (n + 5) * (n + 7) * (n + 9))
  omega2 <- -1 + sqrt(2 * (beta - 1))
  delta <- 1 / sqrt(log(sqrt(omega2)))
  yy <- rb1 * sqrt((omega2 - 1) / 2 * (n + 1) * (n + 3) / (6 * (n - 2)))
  z1 <- delta * asinh(yy)
  # kurtosis: gamma approximation + Wilson-Hilferty, eq. (3)
  dd <- (n - 3) * (n + 1) * (n^2 + 15 * n - 4)
  a <- (n - 2) * (n + 5) * (n + 7) * (n^2 + 27 * n - 70) / (6 * dd)
  cc <- (n - 7) * (n + 5) * (n + 7) * (n^2 + 2 * n - 5) / (6 * dd)
  k <- (n + 5) * (n + 7) * (n^3 + 37 * n^2 + 11 * n - 313) / (12 * dd)
  alpha <- a + rb1^2 * cc
  chi <- (b2 - 1 - rb1^2) * 2 * k
  z2 <- ((chi / (2 * alpha))^(1 / 3) - 1 + 1 / (9 * alpha)) * sqrt(9 * alpha)
  E <- sum(z1^2) + sum(z2^2)
  list(statistic = E, df = 2L * p,
       p_value = pchisq(E, 2 * p, lower.tail = FALSE),
       z_skewness = as_array(z1), z_kurtosis = as_array(z2),
       skewness = as_array(rb1), kurtosis = as_array(b2))
}

# ---------------------------------------------------------------- Royston
royston_ref <- function(X) {
  n <- nrow(X); p <- ncol(X)
  w <- numeric(p); francia <- logical(p)
  for (j in seq_len(p)) {
    v <- X[, j]
    francia[j] <- kurtosis_b(v) > 3
    w[j] <- if (francia[j]) unname(nortest::sf.test(v)$statistic)
            else unname(stats::shapiro.test(v)$statistic)
  }
  if (n <= 11) {
    g <- -2.273 + 0.459 * n
    m <- 0.544 - 0.39978 * n + 0.025054 * n^2 - 0.0006714 * n^3
    s <- exp(1.3822 - 0.77857 * n + 0.062767 * n^2 - 0.0020322 * n^3)
    z <- (-log(g - log(1 - w)) - m) / s
  } else {
    ln <- log(n)
    m <- -1.5861 - 0.31082 * ln - 0.083751 * ln^2 + 0.0038915 * ln^3
    s <- exp(-0.4803 - 0.082676 * ln + 0.0030302 * ln^2)
    z <- (log(1 - w) - m) / s
  }
  k <- qnorm(pnorm(-z) / 2)^2
  u <- 0.715
  v <- 0.21364 + 0.015124 * log(n)^2 - 0.0018034 * log(n)^3
  R <- cor(X)
  off <- R[row(R) != col(R)]
  cbar <- mean(off^5 * (1 - u * (1 - off)^u / v))
  edf <- p / (1 + (p - 1) * cbar)
  H <- edf * mean(k)
  list(statistic = H, edf = edf, p_value = pchisq(H, edf, lower.tail = FALSE),
       n = n, w = as_array(w), francia = as_array(francia), z = as_array(z))
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
result <- list(meta = list(
  R_version_string = R.version.string,
  nortest_version = as.character(packageVersion("nortest")),
  energy_version = as.character(packageVersion("energy")),
  gsl_version = as.character(packageVersion("gsl")),
  generated_by = "tests/golden/make_golden_extra.R",
  data_generated_by = "tests/golden/make_data.py (numpy default_rng(20261123))",
  etest_seed = etest_seed, etest_R = etest_R,
  float_format = "%.17g"
))

out <- list()
for (name in datasets) {
  X <- read_data(name)
  n <- nrow(X)
  entry <- list(file = paste0("data/", name, ".csv"), n = n, d = ncol(X), columns = list())
  for (j in seq_len(ncol(X))) {
    v <- X[, j]
    cv <- nortest::cvm.test(v)
    col <- list(cvm = list(statistic = unname(cv$statistic), p_value = cv$p.value))
    if (n <= 5000) {
      col$shapiro_w <- unname(stats::shapiro.test(v)$statistic)
      col$francia_w <- unname(nortest::sf.test(v)$statistic)
      col$kurtosis <- kurtosis_b(v)
    }
    entry$columns[[colnames(X)[j]]] <- col
  }
  entry$energy <- list(statistic = energy::mvnorm.e(X),
                       statistic_first_column = energy::mvnorm.e(X[, 1]))
  if (n <= 1000) {
    set.seed(etest_seed)
    entry$energy$etest_p_value <- energy::mvnorm.etest(X, R = etest_R)$p.value
  }
  entry$doornik_hansen <- dh_ref(X)
  if (n <= 2000) entry$royston <- royston_ref(X)
  out[[name]] <- entry
  cat(sprintf("%-16s n=%5d d=%d done\n", name, n, ncol(X)))
}
result$datasets <- out

sub_out <- list()
for (name in names(subsets)) {
  s <- subsets[[name]]
  X <- read_data(s$dataset)[s$rows, , drop = FALSE]
  sub_out[[name]] <- list(dataset = s$dataset, rows = as_array(s$rows),
                          royston = royston_ref(X))
}
result$subsets <- sub_out

writeLines(to_json(result), out_path)
cat("wrote", out_path, "\n")
