"""Generation: chat-templated, batched completions for the base model and every adapter."""
