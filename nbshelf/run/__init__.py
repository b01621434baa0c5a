"""Running notebooks: kernels, papermill-compatible parameters, executing a copy in a local
kernel, and the run book that records each run."""
