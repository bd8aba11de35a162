"""One renderer per task; every image is a 256x256 RGB PIL image."""

IMAGE_SIZE = 256
