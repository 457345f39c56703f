"""conv_cost: count the multiplications of a convolution the way notes 004 counts them.

For an H×W output, C_in input channels, C_out filters and a K×K kernel:

* standard convolution: each of the H·W·C_out outputs is a K·K·C_in dot product,
  so H·W·C_out·K²·C_in multiplications (32·32·64·27 = 1,769,472 for a 32×32×3
  input and 64 filters of 3×3 with 'same' padding);
* depthwise: one K×K filter per input channel, H·W·C_in·K² (32·32·27 = 27,648);
* pointwise (1×1): H·W·C_in·C_out (196,608);
* depthwise-separable = depthwise + pointwise (224,256), a fraction
  1/C_out + 1/K² of the standard cost;
* spatially separable: each K×K filter applied as a K×1 then a 1×K pass,
  H·W·C_out·C_in·(K + K) (3 + 3 = 6 instead of 9 per pixel for one channel).

Per output location (H = W = 1) these are 1,728, 27, 192 and 219, the figures of
the notes' "Standard Convolution" slide. (The notes' total for the standard
convolution, 56,623,104, carries an extra factor 32; see docs/notes-examples.md.)
"""

from soma._validation import pair

__all__ = ["conv_cost"]


def conv_cost(in_channels, out_channels, kernel_size, output_size=1, depth_multiplier=1):
    """Multiplication counts of a standard, a depthwise and a depthwise-separable convolution.

    Args:
        in_channels: C_in.
        out_channels: C_out (filters of the standard and of the pointwise convolution).
        kernel_size: K or (kH, kW).
        output_size: H_out·W_out given as an int (a square side) or (H_out, W_out);
            the default 1 counts per output location.
        depth_multiplier: depthwise filters per input channel.

    Returns:
        dict with ``standard``, ``depthwise``, ``pointwise``, ``depthwise_separable``,
        ``spatially_separable`` (all ints) and ``ratio`` = depthwise_separable / standard.

    Example (notes 004)::

        >>> conv_cost(3, 64, 3, output_size=32)["standard"]
        1769472
        >>> conv_cost(3, 64, 3, output_size=32)["depthwise"]
        27648
    """
    kh, kw = pair(kernel_size, "conv_cost", "kernel_size")
    h, w = pair(output_size, "conv_cost", "output_size")
    values = (in_channels, out_channels, kh, kw, h, w, depth_multiplier)
    if any(int(v) != v or v < 1 for v in values):
        raise ValueError(f"conv_cost: every size must be a positive integer, got {values}")
    positions, taps, middle = h * w, kh * kw, in_channels * depth_multiplier
    standard = positions * out_channels * taps * in_channels
    depthwise = positions * middle * taps
    pointwise = positions * middle * out_channels
    return {
        "standard": standard,
        "depthwise": depthwise,
        "pointwise": pointwise,
        "depthwise_separable": depthwise + pointwise,
        "spatially_separable": positions * out_channels * in_channels * (kh + kw),
        "ratio": (depthwise + pointwise) / standard,
    }
