"""`imagevet pipeline init`: a layered golden-image project (Packer HCL2 per layer, hardening and an
imagevet audit gate inside each build, a manifest, a CI workflow with the base/middleware/app cadence)."""
