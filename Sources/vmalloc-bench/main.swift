import Vmalloc
print("vmalloc-bench placeholder")
