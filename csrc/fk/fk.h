// Batched forward kinematics of a floating-base kinematic tree with hinge joints.
//
// Tree (B bodies, topologically ordered: parent[b] < b, body 0 is the floating root):
//   parent      (B,)   int32, -1 for the root
//   joint_index (B,)   int32, column in joint_pos of the body's hinge, -1 for a fixed body
//   local_pos   (B,3)  body origin in the parent frame [m]
//   local_quat  (B,4)  body orientation in the parent frame (w, x, y, z)
//   joint_axis  (B,3)  unit hinge axis in the body frame
//   joint_anchor(B,3)  hinge anchor in the body frame [m]
// Batch (N items):
//   root_pos (N,3) [m], root_quat (N,4) wxyz, joint_pos (N,J) [rad]
// Output:
//   body_pos (N,B,3) world positions [m], body_quat (N,B,4) world orientations wxyz
#pragma once

#include <cstdint>

#include "common/quat.h"

namespace mimiclab {

template <typename T>
struct FkTree {
  int32_t num_bodies;
  const int32_t* parent;
  const int32_t* joint_index;
  const T* local_pos;
  const T* local_quat;
  const T* joint_axis;
  const T* joint_anchor;
};

// Forward kinematics of one batch item. Reads root/joints of item n, writes its B bodies.
template <typename T>
MIMICLAB_HD void fk_item(const FkTree<T>& tree, int64_t n, int32_t num_joints, const T* root_pos,
                         const T* root_quat, const T* joint_pos, T* body_pos, T* body_quat) {
  const int32_t B = tree.num_bodies;
  T* out_p = body_pos + n * B * 3;
  T* out_q = body_quat + n * B * 4;
  const T* q_joints = joint_pos + n * num_joints;
  for (int32_t b = 0; b < B; ++b) {
    T* p = out_p + b * 3;
    T* q = out_q + b * 4;
    const int32_t parent = tree.parent[b];
    if (parent < 0) {
      for (int k = 0; k < 3; ++k) p[k] = root_pos[n * 3 + k];
      for (int k = 0; k < 4; ++k) q[k] = root_quat[n * 4 + k];
    } else {
      const T* pp = out_p + parent * 3;
      const T* pq = out_q + parent * 4;
      T offset[3];
      quat_rotate(pq, tree.local_pos + b * 3, offset);
      for (int k = 0; k < 3; ++k) p[k] = pp[k] + offset[k];
      quat_mul(pq, tree.local_quat + b * 4, q);
    }
    const int32_t j = tree.joint_index[b];
    if (j >= 0) {
      // Rotate about the anchor a: x -> a + R(x - a), so the origin moves by a - R a.
      T rot[4];
      quat_from_axis_angle(tree.joint_axis + b * 3, q_joints[j], rot);
      const T* a = tree.joint_anchor + b * 3;
      T ra[3];
      quat_rotate(rot, a, ra);
      const T shift_local[3] = {a[0] - ra[0], a[1] - ra[1], a[2] - ra[2]};
      T shift[3];
      quat_rotate(q, shift_local, shift);
      for (int k = 0; k < 3; ++k) p[k] += shift[k];
      T q_new[4];
      quat_mul(q, rot, q_new);
      for (int k = 0; k < 4; ++k) q[k] = q_new[k];
    }
  }
}

// CPU: items split into contiguous chunks over `num_threads` threads (<= 0: all hardware threads).
template <typename T>
void fk_forward_cpu(const FkTree<T>& tree, int64_t batch, int32_t num_joints, const T* root_pos,
                    const T* root_quat, const T* joint_pos, T* body_pos, T* body_quat,
                    int num_threads);

// CUDA: all pointers are device pointers; returns a cudaError_t as int (0 = success).
template <typename T>
int fk_forward_cuda(const FkTree<T>& tree, int64_t batch, int32_t num_joints, const T* root_pos,
                    const T* root_quat, const T* joint_pos, T* body_pos, T* body_quat);

}  // namespace mimiclab
