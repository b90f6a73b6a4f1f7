"""One-shot training pipelines: supernets shared by many architectures."""
