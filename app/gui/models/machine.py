"""What the Models page's fit estimates know of this computer: its memory (detected on a
worker thread, or given to the controller) and whether this llama.cpp can offload to a GPU.
GUI thread only."""

from __future__ import annotations

from app.gui.session import EngineSession
from app.models.fit import auto_gpu_layers
from app.models.gguf_layout import ModelLayout
from app.models.machine import MachineMemory


class MachineState:
    def __init__(
        self, session: EngineSession, memory: MachineMemory | None, gpu_override: bool | None = None
    ) -> None:
        self.session = session
        self.memory = memory  # None until detected
        # None: learn from the loaded model whether this llama.cpp can offload at all.
        self.gpu_override = gpu_override

    def gpu_available(self) -> bool:
        if self.gpu_override is not None:
            return self.gpu_override
        info = self.session.info
        return info.gpu_offload_supported if info is not None else True

    def auto_layers(
        self,
        layout: ModelLayout,
        n_ctx: int,
        n_batch: int,
        flash_attn: str | bool,
        type_k: str = "f16",
        type_v: str = "f16",
        draft: ModelLayout | None = None,
    ) -> int:
        """GPU layers for Auto on this machine (0 while its memory is not known), a `draft`
        model loaded beside it counted (app.models.fit.estimate_memory)."""
        if self.memory is None:
            return 0
        return auto_gpu_layers(
            layout, n_ctx, self.memory, gpu_available=self.gpu_available(), n_batch=n_batch,
            flash_attn=flash_attn, type_k=type_k, type_v=type_v, draft=draft,
        )  # fmt: skip
