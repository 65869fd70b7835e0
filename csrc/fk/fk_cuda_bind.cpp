// Python binding of the CUDA forward kinematics (registered into mimiclab._C_cuda).
#include "common/bind.h"
#include "common/cuda_check.h"
#include "fk/fk_args.h"

namespace mimiclab {

namespace {

void fk_forward(const py::dict& tree, const py::handle& root_pos, const py::handle& root_quat,
                const py::handle& joint_pos, const py::handle& body_pos,
                const py::handle& body_quat) {
  FkArgs a = parse_fk_args(tree, root_pos, root_quat, joint_pos, body_pos, body_quat, "cuda");
  for (const Buffer* b : {&a.parent, &a.joint_index, &a.local_pos, &a.local_quat, &a.joint_axis,
                          &a.joint_anchor, &a.root_pos, &a.root_quat, &a.joint_pos, &a.body_pos,
                          &a.body_quat})
    check_device_pointer(*b);
  int err;
  {
    py::gil_scoped_release release;
    if (a.dtype == "float32") {
      err = fk_forward_cuda<float>(a.tree<float>(), a.batch, a.num_joints,
                                   a.root_pos.data<float>(), a.root_quat.data<float>(),
                                   a.joint_pos.data<float>(), a.body_pos.data<float>(),
                                   a.body_quat.data<float>());
    } else {
      err = fk_forward_cuda<double>(a.tree<double>(), a.batch, a.num_joints,
                                    a.root_pos.data<double>(), a.root_quat.data<double>(),
                                    a.joint_pos.data<double>(), a.body_pos.data<double>(),
                                    a.body_quat.data<double>());
    }
  }
  check_cuda(err, "fk_forward");
}

}  // namespace

void bind_fk_cuda(py::module_& m) {
  m.def("fk_forward", &fk_forward, py::arg("tree"), py::arg("root_pos"), py::arg("root_quat"),
        py::arg("joint_pos"), py::arg("body_pos"), py::arg("body_quat"),
        "Batched forward kinematics on CUDA device buffers.");
}

}  // namespace mimiclab
