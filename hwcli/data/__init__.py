"""Data layer: IAM-OnDB and InkML readers, preprocessing pipeline, the converted .npz dataset. No torch."""
