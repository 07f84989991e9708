#ifndef CPOSE_NN_OPS_KEEP_PEAKS_H
#define CPOSE_NN_OPS_KEEP_PEAKS_H

#include <stdint.h>

/* "_CposeKeepPeaks", made by fusion from CenterNet's peak extraction
 * Mul(x, Cast(Equal(x, MaxPool(x, ksize [1, kh, kw, 1], strides 1, SAME)))): keeps each value of x that is
 * the maximum of its kh x kw neighbourhood and zeroes the others. */
typedef struct nn_keep_peaks_params {
  int64_t kernel_h, kernel_w;
} nn_keep_peaks_params;

#endif
