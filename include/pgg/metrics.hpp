#pragma once
// Evaluation: sliced Wasserstein distance and MS-SSIM for generated images, Dice, IoU, accuracy and
// ROC/AUC for segmentation and classification; diagnostic scores, bootstrap intervals and DeLong's test;
// the Frechet distance of feature sets (FID's formula).
#include "metrics/binned_cdf.hpp"
#include "metrics/classification.hpp"
#include "metrics/diagnostic.hpp"
#include "metrics/frechet.hpp"
#include "metrics/ms_ssim.hpp"
#include "metrics/swd.hpp"
