# Writes imagenet_classes.txt, the 1000 ImageNet class names in torchvision's order (one a
# line, index = line number - 1), from torchvision's own list, so vggkit's labels match
# torchvision's pretrained heads. Run with the reference python (scripts/refs.sh):
#   $VGGKIT_REFS_PYTHON vggkit/weights/gen_classes.py
import os

from torchvision.models._meta import _IMAGENET_CATEGORIES as names

assert len(names) == 1000, len(names)
assert all("\n" not in n for n in names)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imagenet_classes.txt")
with open(out, "w", encoding="utf-8") as f:
    f.write("\n".join(names) + "\n")
