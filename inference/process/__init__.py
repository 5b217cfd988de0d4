"""What runs inside the engine process: the worker that serves the pipe (`worker`), the
request queue it schedules from (`request_queue`), the generation loop (`generation`), the
one place that touches llama-cpp-python's internals (`llama_adapter`), prompt tokens and
context fitting, the request log and the CPU thread policy.

The caller's side starts it through `engine_main` alone, which must stay import-light: the
parent pickles a reference to it for the spawn start method. So this file imports nothing.
"""
