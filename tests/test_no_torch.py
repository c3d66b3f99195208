import subprocess
import sys
import textwrap


def test_core_imports_without_torch():
    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch blocked for this test")
                return None

        sys.meta_path.insert(0, Block())
        import numpy as np
        import gaussaudit
        import gaussaudit.stats
        import gaussaudit.io
        import gaussaudit.report.model
        import gaussaudit.cli
        x = np.random.default_rng(0).standard_normal((200, 6))
        r = gaussaudit.audit(x, projections=8, subspaces=2)
        gaussaudit.build_report(r)
        assert "torch" not in sys.modules
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
