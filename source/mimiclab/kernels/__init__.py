"""Hot-path kernels behind one front-end each: torch reference, C++ (``_C``), CUDA (``_C_cuda``).

``backend_report()`` tells which backends were built and can run here. Imports nothing from the
rest of mimiclab.
"""

from mimiclab.kernels.backends import available_backends, backend_report  # noqa: F401
from mimiclab.kernels.fk import fk_reference, forward_kinematics  # noqa: F401
from mimiclab.kernels.pointcloud import pointcloud_distance, pointcloud_nearest  # noqa: F401
