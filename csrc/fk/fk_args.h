// Parses and validates the Python-side arguments of fk_forward for either backend.
#pragma once

#include <string>

#include "common/buffer.h"
#include "fk/fk.h"

namespace mimiclab {

struct FkArgs {
  Buffer parent, joint_index, local_pos, local_quat, joint_axis, joint_anchor;
  Buffer root_pos, root_quat, joint_pos, body_pos, body_quat;
  int64_t batch = 0;
  int32_t num_bodies = 0;
  int32_t num_joints = 0;
  std::string dtype;

  template <typename T>
  FkTree<T> tree() const {
    return FkTree<T>{num_bodies,           parent.data<int32_t>(),   joint_index.data<int32_t>(),
                     local_pos.data<T>(),  local_quat.data<T>(),     joint_axis.data<T>(),
                     joint_anchor.data<T>()};
  }
};

// tree: dict with parent, joint_index, local_pos, local_quat, joint_axis, joint_anchor.
inline FkArgs parse_fk_args(const py::dict& tree, const py::handle& root_pos,
                            const py::handle& root_quat, const py::handle& joint_pos,
                            const py::handle& body_pos, const py::handle& body_quat,
                            const std::string& device_prefix) {
  FkArgs a;
  a.parent = parse_buffer("parent", tree["parent"]);
  a.joint_index = parse_buffer("joint_index", tree["joint_index"]);
  a.local_pos = parse_buffer("local_pos", tree["local_pos"]);
  a.local_quat = parse_buffer("local_quat", tree["local_quat"]);
  a.joint_axis = parse_buffer("joint_axis", tree["joint_axis"]);
  a.joint_anchor = parse_buffer("joint_anchor", tree["joint_anchor"]);
  a.root_pos = parse_buffer("root_pos", root_pos);
  a.root_quat = parse_buffer("root_quat", root_quat);
  a.joint_pos = parse_buffer("joint_pos", joint_pos);
  a.body_pos = parse_buffer("body_pos", body_pos);
  a.body_quat = parse_buffer("body_quat", body_quat);

  check_shape(a.parent, {-1});
  const int64_t B = a.parent.dim(0);
  if (B < 1) throw std::invalid_argument("parent: the tree needs at least one body");
  check_shape(a.root_pos, {-1, 3});
  const int64_t N = a.root_pos.dim(0);
  check_shape(a.joint_pos, {N, -1});
  const int64_t J = a.joint_pos.dim(1);
  check_shape(a.joint_index, {B});
  check_shape(a.local_pos, {B, 3});
  check_shape(a.local_quat, {B, 4});
  check_shape(a.joint_axis, {B, 3});
  check_shape(a.joint_anchor, {B, 3});
  check_shape(a.root_quat, {N, 4});
  check_shape(a.body_pos, {N, B, 3});
  check_shape(a.body_quat, {N, B, 4});

  a.dtype = a.root_pos.dtype;
  if (a.dtype != "float32" && a.dtype != "float64")
    throw std::invalid_argument("root_pos: expected dtype float32 or float64, got " + a.dtype);
  for (const Buffer* b : {&a.local_pos, &a.local_quat, &a.joint_axis, &a.joint_anchor,
                          &a.root_quat, &a.joint_pos, &a.body_pos, &a.body_quat})
    check_dtype(*b, a.dtype);
  check_dtype(a.parent, "int32");
  check_dtype(a.joint_index, "int32");
  for (const Buffer* b : {&a.parent, &a.joint_index, &a.local_pos, &a.local_quat, &a.joint_axis,
                          &a.joint_anchor, &a.root_pos, &a.root_quat, &a.joint_pos, &a.body_pos,
                          &a.body_quat})
    check_device_prefix(*b, device_prefix);

  // Topology is read on the host only for CPU buffers; the front-end validates it for CUDA.
  a.batch = N;
  a.num_bodies = static_cast<int32_t>(B);
  a.num_joints = static_cast<int32_t>(J);
  return a;
}

// Host-side topology check (CPU buffers only): parent[b] < b, one root at 0, joint columns in range.
inline void check_fk_topology(const FkArgs& a) {
  const int32_t* parent = a.parent.data<int32_t>();
  const int32_t* jidx = a.joint_index.data<int32_t>();
  for (int32_t b = 0; b < a.num_bodies; ++b) {
    if ((b == 0) != (parent[b] < 0) || parent[b] >= b)
      throw std::invalid_argument("parent: bodies must be topologically ordered with the only root "
                                  "at index 0 (body " + std::to_string(b) + ")");
    if (jidx[b] < -1 || jidx[b] >= a.num_joints)
      throw std::invalid_argument("joint_index: body " + std::to_string(b) +
                                  " refers to joint column " + std::to_string(jidx[b]) +
                                  " outside joint_pos with " + std::to_string(a.num_joints) +
                                  " columns");
  }
}

}  // namespace mimiclab
