"""Local transformers backend: batched, left-padded, chat-templated; LoRA adapters switched in place.

Prompts are sorted by length and packed into batches under a token budget,
so short prompts do not wait on long ones; results come back in input order.
"""

from __future__ import annotations

from typing import Sequence

from .base import Completion, GenerationBackend, Messages, SamplingSettings, backends


@backends.register("transformers")
class TransformersBackend(GenerationBackend):
    holds_engine = True

    def __init__(self, model: str, *, batch_size: int = 8, token_budget: int = 8192, dtype: str = "auto",
                 trust_remote_code: bool = False, device: str | None = None, progress: bool = False,
                 revision: str | None = None, chat_template: str | None = None, **options):
        from ...models import load_causal_lm, load_tokenizer

        super().__init__(model, **options)
        self.batch_size = batch_size
        self.token_budget = token_budget
        self.progress = progress
        try:
            self.tokenizer = load_tokenizer(model, trust_remote_code=trust_remote_code, revision=revision,
                                            chat_template=chat_template, need_chat_template=True)
            self.base = load_causal_lm(model, dtype=dtype, trust_remote_code=trust_remote_code, revision=revision,
                                       device=device)
        except BaseException:
            super().close()  # nothing was loaded: not an engine alive
            raise
        self.tokenizer.padding_side = "left"
        self.model = self.base
        self._adapters: dict[str, str] = {}  # adapter path -> peft adapter name
        self._active: str | None = None

    # ---------------------------------------------------------------- adapters
    def _use_adapter(self, adapter: str | None) -> None:
        if adapter == self._active:
            return
        from peft import PeftModel

        if adapter is None:
            self._active = None
            return
        if adapter not in self._adapters:
            name = f"a{len(self._adapters)}"
            if isinstance(self.model, PeftModel):
                self.model.load_adapter(adapter, adapter_name=name)
            else:
                self.model = PeftModel.from_pretrained(self.base, adapter, adapter_name=name).eval()
            self._adapters[adapter] = name
        self.model.set_adapter(self._adapters[adapter])
        self._active = adapter

    def _forward_model(self):
        from peft import PeftModel

        if self._active is None and isinstance(self.model, PeftModel):
            return self.model, True  # run with adapters disabled
        return self.model, False

    # ---------------------------------------------------------------- generation
    def render(self, conversation: Messages) -> str:
        return self.tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)

    def _batches(self, lengths: list[int], max_new_tokens: int) -> list[list[int]]:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        batches, cur = [], []
        for i in order:
            longest = lengths[cur[0]] if cur else lengths[i]
            if cur and (len(cur) >= self.batch_size or (len(cur) + 1) * (longest + max_new_tokens) > self.token_budget):
                batches.append(cur)
                cur = []
            cur.append(i)
        if cur:
            batches.append(cur)
        return batches

    def generate(self, conversations: Sequence[Messages], settings: SamplingSettings,
                 adapter: str | None = None) -> list[Completion]:
        import contextlib

        import torch

        self._use_adapter(adapter)
        model, disable = self._forward_model()
        texts = [self.render(c) for c in conversations]
        encoded = [self.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        results: list[Completion | None] = [None] * len(texts)
        batches = self._batches([len(e) for e in encoded], settings.max_new_tokens)
        it = batches
        if self.progress:
            from tqdm.auto import tqdm
            it = tqdm(batches, desc="generate", unit="batch", leave=False)
        device = next(self.base.parameters()).device
        for batch in it:
            enc = self.tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt").to(device)
            # output_logits: the model's raw logits, so logprobs are not bent by temperature/top-p processing
            kwargs = dict(max_new_tokens=settings.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                          return_dict_in_generate=True, output_logits=settings.logprobs > 0)
            if settings.temperature > 0:
                torch.manual_seed(settings.seed)
                kwargs.update(do_sample=True, temperature=settings.temperature, top_p=settings.top_p)
            else:
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            ctx = model.disable_adapter() if disable else contextlib.nullcontext()
            with torch.inference_mode(), ctx:
                out = model.generate(**enc, **kwargs)
            new = out.sequences[:, enc["input_ids"].shape[1]:]
            for row, i in enumerate(batch):
                ids = new[row].tolist()
                top = None
                if settings.logprobs > 0:
                    top = []
                    for step, logits in enumerate(out.logits):
                        if step >= len(ids) or ids[step] == self.tokenizer.pad_token_id:
                            break
                        lp = torch.log_softmax(logits[row].float(), dim=-1)
                        vals, idx = lp.topk(min(settings.logprobs, lp.shape[-1]))
                        options: dict[str, float] = {}
                        for v, t in zip(vals.tolist(), idx.tolist()):
                            options.setdefault(self.tokenizer.decode([t]), v)  # keep the likeliest of same-text tokens
                        top.append(options)
                results[i] = Completion(text=self.tokenizer.decode(ids, skip_special_tokens=True).strip(), top_logprobs=top)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        import gc

        import torch
        if getattr(self, "base", None) is None:
            return
        self.model = self.base = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        super().close()
