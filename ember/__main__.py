"""``python -m ember``: version, NumPy and its BLAS, and which optional backends are usable."""
from __future__ import annotations

import importlib
import platform
import shutil


def _probe(module):
    try:
        mod = importlib.import_module(module)
        return True, getattr(mod, "__version__", "")
    except Exception as e:  # ImportError, or a broken install (a CUDA driver missing ...)
        return False, f"{type(e).__name__}: {e}".splitlines()[0][:80]


def _blas():
    try:
        from threadpoolctl import threadpool_info
        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            i = infos[0]
            return f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
    except ImportError:
        pass
    import numpy as np
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        return f"{b.get('name')} {b.get('version')}"
    except Exception:
        return "unknown"


def report() -> str:
    import numpy as np

    import ember
    lines = [f"Ember {ember.__version__} (PyTorch's API on NumPy)",
             f"Python {platform.python_version()} on {platform.system()} {platform.machine()}",
             f"NumPy {np.__version__}, BLAS: {_blas()}", "", "Optional backends and extras:"]
    ok, v = _probe("cupy")
    gpus = ""
    if ok:
        try:
            import cupy
            gpus = f", {cupy.cuda.runtime.getDeviceCount()} GPU(s)"
        except Exception as e:
            ok, v = False, f"CuPy present but no usable GPU ({type(e).__name__})"
    lines.append(f"  cuda (CuPy):     {'yes ' + v + gpus if ok else 'no  (' + v + ')'}")
    ok, v = _probe("mpi4py")
    lines.append(f"  distributed MPI: {'yes mpi4py ' + v if ok else 'no  (' + v + ')'}")
    ok, v = _probe("graphviz")
    dot = shutil.which("dot")
    lines.append(f"  Graphviz:        python package {'yes ' + v if ok else 'no'}; dot program "
                 f"{'yes' if dot else 'no (SVG still drawn by Ember)'}")
    for mod, what in (("scipy", "SciPy (exact erf)"), ("tqdm", "tqdm"), ("matplotlib", "matplotlib"),
                      ("safetensors", "safetensors")):
        ok, v = _probe(mod)
        lines.append(f"  {what + ':':<19}{'yes ' + v if ok else 'no'}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
