/* Convolution family: the single place that tells depthwise, 1×1 and k×k apart. */
#include "include/qtop_kernels.h"

int qtop_conv_family(int ic, int oc, int groups, int kh, int kw) {
    if (groups > 1 && groups == ic && oc == ic) return QTOP_CONV_DW;
    return kh == 1 && kw == 1 ? QTOP_CONV_1X1 : QTOP_CONV_KXK;
}

const char *qtop_conv_family_name(int family) {
    switch (family) {
    case QTOP_CONV_1X1: return "conv1x1";
    case QTOP_CONV_KXK: return "conv";
    case QTOP_CONV_DW: return "dwconv";
    default: return "?";
    }
}
