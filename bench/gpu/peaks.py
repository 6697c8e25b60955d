"""Datasheet dense bf16 tensor-core peaks (TFLOP/s), keyed by the GPU's name as
nvidia-smi and torch.cuda.get_device_name report it.

NVIDIA's datasheets print bf16 "with sparsity" (2:4 structured); the dense rate a VGG
runs at is half of it. The figures below are the dense ones, for the SXM/PCIe form the
name tells; where a name does not say (e.g. "NVIDIA H200"), the card NVIDIA ships under
that name (SXM). An unknown card gives None: the table prints "-".
"""
import re

# (pattern on the name, dense bf16 TFLOP/s, source). First match wins: specific first.
PEAKS = [
    (r"\bH100\b.*\bNVL\b", 835.5, "NVIDIA H100 datasheet (H100 NVL: 1,671 with sparsity)"),
    (r"\bH100\b.*\bPCIe\b", 756.0, "NVIDIA H100 datasheet (H100 PCIe: 1,513 with sparsity)"),
    (r"\bH100\b", 989.4, "NVIDIA H100 datasheet (H100 SXM: 1,979 with sparsity)"),
    (r"\bH200\b.*\bNVL\b", 835.5, "NVIDIA H200 datasheet (H200 NVL: 1,671 with sparsity)"),
    (r"\bG?H200\b", 989.4, "NVIDIA H200 datasheet (H200 SXM: 1,979 with sparsity)"),
    (r"\bB200\b", 2250.0, "NVIDIA HGX B200 datasheet (4.5 PFLOP/s per GPU with sparsity)"),
    (r"\bA100\b", 312.0, "NVIDIA A100 datasheet (624 with sparsity; SXM and PCIe)"),
    (r"\bA30\b", 165.0, "NVIDIA A30 datasheet (330 with sparsity)"),
    (r"\bA10G\b", None, "not on a datasheet (AWS's A10G)"),
    (r"\bA10\b", 125.0, "NVIDIA A10 datasheet (250 with sparsity)"),
    (r"\bL40S\b", 362.0, "NVIDIA L40S datasheet (733 with sparsity)"),
    (r"\bL40\b", 181.0, "NVIDIA L40 datasheet (362 with sparsity)"),
    (r"\bL4\b", 121.0, "NVIDIA L4 datasheet (242 with sparsity)"),
]


def datasheet_bf16(name):
    """(dense bf16 TFLOP/s or None, source or None) for a GPU name."""
    for pattern, tflops, source in PEAKS:
        if name and re.search(pattern, name, re.IGNORECASE):
            return tflops, source
    return None, None


if __name__ == "__main__":
    import sys

    for n in sys.argv[1:] or ["NVIDIA H200", "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA A100-SXM4-80GB",
                              "NVIDIA L4", "NVIDIA L40S", "NVIDIA A10G", "Tesla V100-SXM2-16GB", "cpu"]:
        print(f"{n!r}: {datasheet_bf16(n)}")
