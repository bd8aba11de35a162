"""MGSD evaluation: OpenAI-compatible client, planning/perception/modality-gap pipelines, reports."""
