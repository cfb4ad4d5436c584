# Reconstruction tolerance of a conforming decoder, against the reference
# backend's decode (sourced by conformance/regenerate, which writes it into
# expected.txt per stream). Derived from measurements, see
# doc/conformance.md "Tolerance".
LVC_TOL_MAXDIFF_8=2        # max |diff| of a colour sample, 8-bit levels
LVC_TOL_MAXDIFF_16=514     # same for 16-bit samples (2 * 257)
LVC_TOL_MIN_PSNR=50        # PSNR vs the reference decode, dB (colour channels)
