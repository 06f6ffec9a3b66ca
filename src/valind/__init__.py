"""valind: the value-induction lab.

Take preference data, find the values each response expresses, build one
training subset per value (the XOR rule), induce each value with DPO/SFT+LoRA,
and measure what else changed against the base model.
"""

__version__ = "0.1.0"
