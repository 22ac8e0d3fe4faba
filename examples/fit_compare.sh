#!/usr/bin/env bash
# The two comparisons of docs/fit.md: a VG guide against NumPyro's autoguides, fitted with the same settings,
# with the plots written to docs/img/. Takes a few minutes (most of it the BNAF flows).
#
#   examples/fit_compare.sh            # from anywhere; needs vgc[plot] (matplotlib)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# (a) The seed's target: the rotated bimodal p(x, y) at b = 2, θ = 0.6, known only as an unnormalized log
# density. The guide is the target's own family, started at b = 1, θ = 0.3.
echo "== rotated_bimodal =="
vgc fit examples/rotated_bimodal.vg --model examples/rotated_bimodal.py:model \
  --steps 3000 --lr 0.05 --decay 0.01 --particles 16 --optimizer clipped_adam \
  --compare AutoNormal,AutoBNAF --plot docs/img/rotated_bimodal

# (b) Neal's funnel (dim = 10): x's scale depends on y, which the VG guide states and AutoNormal and
# AutoMultivariateNormal cannot.
echo "== funnel =="
vgc fit examples/funnel.vg --model examples/funnel.py:funnel \
  --steps 5000 --lr 0.01 --particles 4 \
  --compare AutoNormal,AutoMultivariateNormal,AutoBNAF --plot docs/img/funnel
