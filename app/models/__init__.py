"""Model management: the installed-model catalogue, Hugging Face Hub search and download,
import and folder scans, and the memory-fit estimator. GUI-free (no Qt, no llama_cpp), so the
CLI, the Models page and tests share it."""
