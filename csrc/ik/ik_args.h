// Parses and validates the Python-side arguments of ik_solve for either backend.
//   tree:    dict of the FK tree buffers + body_of_joint (J,), anc_joints (B,J), anc_count (B,)
//   bounds:  lower, upper, max_step, prior_lower, prior_upper, prior_weight (J,)
//   targets: body_index (K,), offset (K,3), pos (C,T,K,3), quat (C,T,K,4), pos_weight, rot_weight (C,T,K)
//   init:    root_pos (C,3), root_quat (C,4), joint_pos (C,J), posture (C,J)
//   out:     root_pos (C,T,3), root_quat (C,T,4), joint_pos (C,T,J), pos_error, rot_error (C,T,K),
//            iterations (C,T) int32
//   params:  iterations, first_iterations, damping, tol, posture_weight, velocity_weight,
//            acceleration_weight, limit_first_frame
#pragma once

#include <map>
#include <string>

#include "common/buffer.h"
#include "ik/ik.h"

namespace mimiclab {

struct IkArgs {
  std::map<std::string, Buffer> b;
  int64_t C = 0;
  int32_t T = 0, K = 0, J = 0, B = 0;
  std::string dtype;
  int32_t iterations = 0, first_iterations = 0;
  double damping = 0, tol = 0, posture_weight = 0, velocity_weight = 0, acceleration_weight = 0;
  bool limit_first_frame = false;

  template <typename S>
  IkTree<S> tree() const {
    return IkTree<S>{FkTree<S>{B, b.at("parent").data<int32_t>(), b.at("joint_index").data<int32_t>(),
                               b.at("local_pos").data<S>(), b.at("local_quat").data<S>(),
                               b.at("joint_axis").data<S>(), b.at("joint_anchor").data<S>()},
                     J,
                     b.at("body_of_joint").data<int32_t>(),
                     b.at("anc_joints").data<int32_t>(),
                     b.at("anc_count").data<int32_t>(),
                     b.at("lower").data<S>(),
                     b.at("upper").data<S>(),
                     b.at("max_step").data<S>(),
                     b.at("prior_lower").data<S>(),
                     b.at("prior_upper").data<S>(),
                     b.at("prior_weight").data<S>()};
  }
  template <typename S>
  IkTargets<S> targets() const {
    return IkTargets<S>{K, b.at("body_index").data<int32_t>(), b.at("offset").data<S>(),
                        b.at("pos").data<S>(), b.at("quat").data<S>(),
                        b.at("pos_weight").data<S>(), b.at("rot_weight").data<S>()};
  }
  template <typename S>
  IkParams<S> params() const {
    return IkParams<S>{iterations, first_iterations, S(damping), S(tol), S(posture_weight),
                       limit_first_frame, S(velocity_weight), S(acceleration_weight)};
  }
  template <typename S>
  IkOutputs<S> outputs() const {
    return IkOutputs<S>{b.at("out_root_pos").data<S>(), b.at("out_root_quat").data<S>(),
                        b.at("out_joint_pos").data<S>(), b.at("out_pos_error").data<S>(),
                        b.at("out_rot_error").data<S>(), b.at("out_iterations").data<int32_t>()};
  }
};

inline IkArgs parse_ik_args(const py::dict& tree, const py::dict& bounds, const py::dict& targets,
                            const py::dict& init, const py::dict& out, const py::dict& params,
                            const std::string& device_prefix) {
  IkArgs a;
  for (const char* k : {"parent", "joint_index", "local_pos", "local_quat", "joint_axis",
                        "joint_anchor", "body_of_joint", "anc_joints", "anc_count"})
    a.b[k] = parse_buffer(k, tree[k]);
  for (const char* k : {"lower", "upper", "max_step", "prior_lower", "prior_upper", "prior_weight"})
    a.b[k] = parse_buffer(k, bounds[k]);
  for (const char* k : {"body_index", "offset", "pos", "quat", "pos_weight", "rot_weight"})
    a.b[k] = parse_buffer(k, targets[k]);
  for (const char* k : {"root_pos", "root_quat", "joint_pos", "posture"})
    a.b[std::string("init_") + k] = parse_buffer(std::string("init ") + k, init[k]);
  for (const char* k : {"root_pos", "root_quat", "joint_pos", "pos_error", "rot_error", "iterations"})
    a.b[std::string("out_") + k] = parse_buffer(std::string("out ") + k, out[k]);

  check_shape(a.b["parent"], {-1});
  a.B = static_cast<int32_t>(a.b["parent"].dim(0));
  check_shape(a.b["lower"], {-1});
  a.J = static_cast<int32_t>(a.b["lower"].dim(0));
  check_shape(a.b["body_index"], {-1});
  a.K = static_cast<int32_t>(a.b["body_index"].dim(0));
  check_shape(a.b["pos"], {-1, -1, a.K, 3});
  a.C = a.b["pos"].dim(0);
  a.T = static_cast<int32_t>(a.b["pos"].dim(1));
  const int64_t B = a.B, J = a.J, K = a.K, C = a.C, T = a.T;
  if (B < 1 || K < 1) throw std::invalid_argument("ik_solve: the tree needs bodies and at least one target");
  const std::vector<std::pair<const char*, std::vector<int64_t>>> shapes = {
      {"joint_index", {B}}, {"local_pos", {B, 3}}, {"local_quat", {B, 4}}, {"joint_axis", {B, 3}},
      {"joint_anchor", {B, 3}}, {"body_of_joint", {J}}, {"anc_joints", {B, J}}, {"anc_count", {B}},
      {"upper", {J}}, {"max_step", {J}}, {"prior_lower", {J}}, {"prior_upper", {J}}, {"prior_weight", {J}}, {"offset", {K, 3}}, {"quat", {C, T, K, 4}},
      {"pos_weight", {C, T, K}}, {"rot_weight", {C, T, K}}, {"init_root_pos", {C, 3}},
      {"init_root_quat", {C, 4}}, {"init_joint_pos", {C, J}}, {"init_posture", {C, J}},
      {"out_root_pos", {C, T, 3}}, {"out_root_quat", {C, T, 4}}, {"out_joint_pos", {C, T, J}},
      {"out_pos_error", {C, T, K}}, {"out_rot_error", {C, T, K}}, {"out_iterations", {C, T}}};
  for (const auto& [name, shape] : shapes) check_shape(a.b.at(name), shape);

  a.dtype = a.b["pos"].dtype;
  if (a.dtype != "float32" && a.dtype != "float64")
    throw std::invalid_argument("pos: expected dtype float32 or float64, got " + a.dtype);
  for (auto& [name, buf] : a.b) {
    const bool is_int = name == "parent" || name == "joint_index" || name == "body_of_joint" ||
                        name == "anc_joints" || name == "anc_count" || name == "body_index" ||
                        name == "out_iterations";
    check_dtype(buf, is_int ? std::string("int32") : a.dtype);
    check_device_prefix(buf, device_prefix);
  }
  a.iterations = params["iterations"].cast<int32_t>();
  a.first_iterations = params["first_iterations"].cast<int32_t>();
  a.damping = params["damping"].cast<double>();
  a.tol = params["tol"].cast<double>();
  a.posture_weight = params["posture_weight"].cast<double>();
  a.velocity_weight = params["velocity_weight"].cast<double>();
  a.acceleration_weight = params["acceleration_weight"].cast<double>();
  a.limit_first_frame = params["limit_first_frame"].cast<bool>();
  if (a.iterations < 1 || a.first_iterations < 1)
    throw std::invalid_argument("iterations: must be >= 1");
  if (!(a.damping > 0)) throw std::invalid_argument("damping: must be > 0");
  if (!(a.posture_weight >= 0) || !(a.velocity_weight >= 0) || !(a.acceleration_weight >= 0))
    throw std::invalid_argument("posture/velocity/acceleration weights: must be >= 0");
  return a;
}

// Host-side index checks (CPU buffers only): tree topology, target bodies, ancestor lists.
inline void check_ik_indices(const IkArgs& a) {
  const int32_t* parent = a.b.at("parent").data<int32_t>();
  const int32_t* jidx = a.b.at("joint_index").data<int32_t>();
  const int32_t* boj = a.b.at("body_of_joint").data<int32_t>();
  const int32_t* cnt = a.b.at("anc_count").data<int32_t>();
  const int32_t* anc = a.b.at("anc_joints").data<int32_t>();
  const int32_t* body_index = a.b.at("body_index").data<int32_t>();
  for (int32_t b = 0; b < a.B; ++b) {
    if ((b == 0) != (parent[b] < 0) || parent[b] >= b)
      throw std::invalid_argument("parent: bodies must be topologically ordered, root at 0");
    if (jidx[b] < -1 || jidx[b] >= a.J) throw std::invalid_argument("joint_index: out of range");
    if (cnt[b] < 0 || cnt[b] > a.J) throw std::invalid_argument("anc_count: out of range");
    for (int32_t i = 0; i < cnt[b]; ++i) {
      const int32_t j = anc[int64_t(b) * a.J + i];
      if (j < 0 || j >= a.J || (i > 0 && j <= anc[int64_t(b) * a.J + i - 1]))
        throw std::invalid_argument("anc_joints: must list valid joints in ascending order");
    }
  }
  for (int32_t j = 0; j < a.J; ++j)
    if (boj[j] < 0 || boj[j] >= a.B || jidx[boj[j]] != j)
      throw std::invalid_argument("body_of_joint: inconsistent with joint_index");
  for (int32_t k = 0; k < a.K; ++k)
    if (body_index[k] < 0 || body_index[k] >= a.B)
      throw std::invalid_argument("body_index: target " + std::to_string(k) + " refers to body " +
                                  std::to_string(body_index[k]) + " outside the tree");
}

}  // namespace mimiclab
