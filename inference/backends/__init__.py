"""Backends an engine session can talk to besides the local engine process (issue 14): remote
OpenAI-compatible servers (llama.cpp's llama-server, vLLM, Ollama, LM Studio, llama-cpp-python's
server). Each provides inference.sync_client.BlockingEngine, so chat, documents and
translation do not know which they use. Plain Python: no Qt, no llama_cpp, and no network
until a request is made."""
