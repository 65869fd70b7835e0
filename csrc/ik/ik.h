// Retargeting IK: Levenberg–Marquardt on a floating-base tree, one problem per call of ik_solve_item.
// The algorithm is the one of source/mimiclab/kernels/ik_reference.py (the readable reference):
//   minimise Σ_k wp_k‖p*_k − p_k‖² + wr_k‖log(R*_k R_kᵀ)‖² + μ‖q − m‖² + Σ_j ω_j (q_j − clamp(q_j, a_j, b_j))²
//   with the regulariser μ = μ_p + μ_v + μ_a, m = (μ_p q_posture + μ_v q₁ + μ_a (2q₁ − q₂)) / μ
//   (q₁, q₂ the previous frames' solutions; see `regulariser` in the reference) and the
//   anatomical prior [a, b], ω;
//   (H + λI) δ = g with the analytic world-frame Jacobian, q projected onto [lo, hi],
//   a step is kept only if it lowers the cost (λ ← max(0.3λ, 1e-7)), else λ ← 10λ.
// Sequences: clip c runs frames t = 0..T-1 in order, each warm-started from the previous solution;
// q may move at most max_step per frame (frame 0 too when limit_first_frame).
#pragma once

#include <cstdint>

#include "common/quat.h"
#include "fk/fk.h"

namespace mimiclab {

template <typename T>
struct IkTree {
  FkTree<T> fk;
  int32_t num_joints;
  const int32_t* body_of_joint;  // (J,) body carrying joint j
  const int32_t* anc_joints;     // (B, J) joints moving body b, ascending, padded with -1
  const int32_t* anc_count;      // (B,)
  const T* lower;                // (J,) joint limits [rad]
  const T* upper;                // (J,)
  const T* max_step;             // (J,) largest change per frame [rad] (inf: none)
  const T* prior_lower;          // (J,) anatomical prior range [rad] (-inf: free)
  const T* prior_upper;          // (J,) (+inf: free)
  const T* prior_weight;         // (J,) ω (0: no prior)
};

// Targets of all problems: (C, T, K, ...) arrays.
template <typename T>
struct IkTargets {
  int32_t num_targets;
  const int32_t* body_index;  // (K,)
  const T* offset;            // (K, 3) point in the body frame [m]
  const T* pos;               // (C, T, K, 3)
  const T* quat;              // (C, T, K, 4) wxyz
  const T* pos_weight;        // (C, T, K)
  const T* rot_weight;        // (C, T, K)
};

template <typename T>
struct IkParams {
  int32_t iterations;        // linearisations per frame
  int32_t first_iterations;  // for frame 0
  T damping;                 // initial λ
  T tol;                     // early stop: largest applied step component [m or rad]
  T posture_weight;          // μ_p
  bool limit_first_frame;    // apply max_step at frame 0 (relative to the initial q)
  T velocity_weight;         // μ_v: cost on q − q₁
  T acceleration_weight;     // μ_a: cost on q − 2q₁ + q₂
};

template <typename T>
struct IkOutputs {
  T* root_pos;     // (C, T, 3)
  T* root_quat;    // (C, T, 4)
  T* joint_pos;    // (C, T, J)
  T* pos_error;    // (C, T, K) [m]
  T* rot_error;    // (C, T, K) [rad]
  int32_t* iterations;  // (C, T)
};

// Scalars of workspace one problem needs.
MIMICLAB_HD int64_t ik_workspace_size(int32_t B, int32_t J, int32_t K) {
  const int64_t n = 6 + J;
  return 2 * (7 * int64_t(B) + 9 * int64_t(K) + 7 + J) + 6 * int64_t(J) + n * n + 2 * n + 3 * J +
         6 * n;
}

namespace ik_detail {

template <typename T>
MIMICLAB_HD T square(T x) { return x * x; }

template <typename T>
MIMICLAB_HD T abs_(T x) { return x < T(0) ? -x : x; }

// Rotation vector of unit quaternion q (shortest arc).
template <typename T>
MIMICLAB_HD void quat_log(const T* q, T* out) {
  T w = q[0], x = q[1], y = q[2], z = q[3];
  if (w < T(0)) { w = -w; x = -x; y = -y; z = -z; }
  const T s = std::sqrt(x * x + y * y + z * z);
  const T scale = s > T(1e-12) ? T(2) * std::atan2(s, w) / s : T(2);
  out[0] = x * scale; out[1] = y * scale; out[2] = z * scale;
}

template <typename T>
MIMICLAB_HD void quat_exp(const T* v, T* out) {
  const T angle = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  const T half = T(0.5) * angle;
  const T scale = angle > T(1e-12) ? std::sin(half) / angle : T(0.5);
  out[0] = std::cos(half); out[1] = v[0] * scale; out[2] = v[1] * scale; out[3] = v[2] * scale;
  const T norm = std::sqrt(out[0] * out[0] + out[1] * out[1] + out[2] * out[2] + out[3] * out[3]);
  for (int i = 0; i < 4; ++i) out[i] /= norm;
}

// clamp(q, a_j, b_j) − q for joint j's anatomical prior.
template <typename T>
MIMICLAB_HD T prior_residual(const IkTree<T>& tree, int32_t j, T q) {
  const T a = tree.prior_lower[j], b = tree.prior_upper[j];
  return q < a ? a - q : (q > b ? b - q : T(0));
}

// One state of a problem: root, joints, body poses, target points and errors, cost.
template <typename T>
struct State {
  T* root;      // 7: pos (3) + quat (4)
  T* q;         // J
  T* body_pos;  // B*3
  T* body_quat; // B*4
  T* point;     // K*3
  T* e_pos;     // K*3
  T* e_rot;     // K*3
  T cost;
};

template <typename T>
MIMICLAB_HD T* carve(T*& cursor, int64_t count) {
  T* p = cursor;
  cursor += count;
  return p;
}

template <typename T>
MIMICLAB_HD State<T> make_state(T*& cursor, int32_t B, int32_t J, int32_t K) {
  State<T> s;
  s.root = carve(cursor, 7);
  s.q = carve(cursor, J);
  s.body_pos = carve(cursor, 3 * int64_t(B));
  s.body_quat = carve(cursor, 4 * int64_t(B));
  s.point = carve(cursor, 3 * int64_t(K));
  s.e_pos = carve(cursor, 3 * int64_t(K));
  s.e_rot = carve(cursor, 3 * int64_t(K));
  s.cost = T(0);
  return s;
}

// FK, target points, errors and cost of state s for the frame's targets (pointers at the frame).
template <typename T>
MIMICLAB_HD void evaluate(const IkTree<T>& tree, const IkTargets<T>& tg, const T* pos, const T* quat,
                          const T* wp, const T* wr, const T* posture, T posture_weight, State<T>& s) {
  const int32_t J = tree.num_joints, K = tg.num_targets;
  fk_item(tree.fk, 0, J, s.root, s.root + 3, s.q, s.body_pos, s.body_quat);
  T cost = T(0);
  for (int32_t k = 0; k < K; ++k) {
    const int32_t b = tg.body_index[k];
    const T* bq = s.body_quat + 4 * b;
    T off[3];
    quat_rotate(bq, tg.offset + 3 * k, off);
    T* p = s.point + 3 * k;
    T* ep = s.e_pos + 3 * k;
    for (int i = 0; i < 3; ++i) {
      p[i] = s.body_pos[3 * b + i] + off[i];
      ep[i] = pos[3 * k + i] - p[i];
    }
    const T conj[4] = {bq[0], -bq[1], -bq[2], -bq[3]};
    T d[4];
    quat_mul(quat + 4 * k, conj, d);
    quat_log(d, s.e_rot + 3 * k);
    const T* er = s.e_rot + 3 * k;
    cost += wp[k] * (ep[0] * ep[0] + ep[1] * ep[1] + ep[2] * ep[2]) +
            wr[k] * (er[0] * er[0] + er[1] * er[1] + er[2] * er[2]);
  }
  for (int32_t j = 0; j < J; ++j)
    cost += posture_weight * square(s.q[j] - posture[j]) +
            tree.prior_weight[j] * square(prior_residual(tree, j, s.q[j]));
  s.cost = cost;
}

// In-place Cholesky solve of the n×n SPD matrix A (upper triangle filled) for x = A⁻¹ b.
// Returns false when A is not positive definite. The lower triangle receives L.
template <typename T>
MIMICLAB_HD bool cholesky_solve(T* A, int32_t n, const T* b, T* x) {
  for (int32_t i = 0; i < n; ++i)
    for (int32_t j = 0; j < i; ++j) A[i * n + j] = A[j * n + i];  // mirror upper → lower
  for (int32_t j = 0; j < n; ++j) {
    T d = A[j * n + j];
    for (int32_t k = 0; k < j; ++k) d -= A[j * n + k] * A[j * n + k];
    if (!(d > T(0))) return false;
    d = std::sqrt(d);
    A[j * n + j] = d;
    for (int32_t i = j + 1; i < n; ++i) {
      T v = A[i * n + j];
      for (int32_t k = 0; k < j; ++k) v -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = v / d;
    }
  }
  for (int32_t i = 0; i < n; ++i) {  // L y = b
    T v = b[i];
    for (int32_t k = 0; k < i; ++k) v -= A[i * n + k] * x[k];
    x[i] = v / A[i * n + i];
  }
  for (int32_t i = n - 1; i >= 0; --i) {  // Lᵀ x = y
    T v = x[i];
    for (int32_t k = i + 1; k < n; ++k) v -= A[k * n + i] * x[k];
    x[i] = v / A[i * n + i];
  }
  return true;
}

// Column `a` of one target's Jacobian: position rows jp (3) and rotation rows jr (3); returns the
// column's index in the full update δ. a < 3: root translation; a < 6: root rotation (world frame,
// δθ × r with r = point − root); else the a−6-th joint that moves the target's body.
template <typename T>
MIMICLAB_HD int32_t jacobian_column(int32_t a, const int32_t* anc, const T* r, const T* point,
                                    const T* axis_w, const T* anchor_w, T* jp, T* jr) {
  if (a < 3) {
    jp[0] = jp[1] = jp[2] = T(0);
    jp[a] = T(1);
    jr[0] = jr[1] = jr[2] = T(0);
    return a;
  }
  if (a < 6) {
    const int i = a - 3;
    const T e[3] = {T(i == 0), T(i == 1), T(i == 2)};
    jp[0] = e[1] * r[2] - e[2] * r[1];
    jp[1] = e[2] * r[0] - e[0] * r[2];
    jp[2] = e[0] * r[1] - e[1] * r[0];
    jr[0] = e[0]; jr[1] = e[1]; jr[2] = e[2];
    return a;
  }
  const int32_t j = anc[a - 6];
  const T* ax = axis_w + 3 * j;
  const T l[3] = {point[0] - anchor_w[3 * j], point[1] - anchor_w[3 * j + 1],
                  point[2] - anchor_w[3 * j + 2]};
  jp[0] = ax[1] * l[2] - ax[2] * l[1];
  jp[1] = ax[2] * l[0] - ax[0] * l[2];
  jp[2] = ax[0] * l[1] - ax[1] * l[0];
  jr[0] = ax[0]; jr[1] = ax[1]; jr[2] = ax[2];
  return 6 + j;
}

// Upper triangle of H and g at state s (the normal equations of the linearised problem).
template <typename T>
MIMICLAB_HD void normal_equations(const IkTree<T>& tree, const IkTargets<T>& tg, const T* wp,
                                  const T* wr, const T* posture, T posture_weight,
                                  const State<T>& s, T* axis_w, T* anchor_w, T* jcols, T* H,
                                  T* g) {
  const int32_t J = tree.num_joints, K = tg.num_targets, n = 6 + J;
  for (int32_t j = 0; j < J; ++j) {
    const int32_t b = tree.body_of_joint[j];
    const T* bq = s.body_quat + 4 * b;
    quat_rotate(bq, tree.fk.joint_axis + 3 * b, axis_w + 3 * j);
    T a[3];
    quat_rotate(bq, tree.fk.joint_anchor + 3 * b, a);
    for (int i = 0; i < 3; ++i) anchor_w[3 * j + i] = s.body_pos[3 * b + i] + a[i];
  }
  for (int64_t i = 0; i < int64_t(n) * n; ++i) H[i] = T(0);
  for (int32_t i = 0; i < n; ++i) g[i] = T(0);
  for (int32_t k = 0; k < K; ++k) {
    const int32_t b = tg.body_index[k];
    const T* p = s.point + 3 * k;
    const T* ep = s.e_pos + 3 * k;
    const T* er = s.e_rot + 3 * k;
    const T w_p = wp[k], w_r = wr[k];
    const T r[3] = {p[0] - s.root[0], p[1] - s.root[1], p[2] - s.root[2]};
    const int32_t cnt = tree.anc_count[b];
    const int32_t* anc = tree.anc_joints + int64_t(b) * J;
    // Columns of this target: 0..5 root, then its ancestor joints (ascending → upper triangle).
    const int32_t m = 6 + cnt;
    for (int32_t a = 0; a < m; ++a) {  // this target's columns, once: [jp (3), jr (3)] each
      T* col = jcols + 6 * a;
      jacobian_column(a, anc, r, p, axis_w, anchor_w, col, col + 3);
      g[a < 6 ? a : 6 + anc[a - 6]] += w_p * (col[0] * ep[0] + col[1] * ep[1] + col[2] * ep[2]) +
                                        w_r * (col[3] * er[0] + col[4] * er[1] + col[5] * er[2]);
    }
    for (int32_t a = 0; a < m; ++a) {
      const T* ja = jcols + 6 * a;
      T* row = H + int64_t(a < 6 ? a : 6 + anc[a - 6]) * n;
      for (int32_t c = a; c < m; ++c) {
        const T* jc = jcols + 6 * c;
        row[c < 6 ? c : 6 + anc[c - 6]] += w_p * (ja[0] * jc[0] + ja[1] * jc[1] + ja[2] * jc[2]) +
                                           w_r * (ja[3] * jc[3] + ja[4] * jc[4] + ja[5] * jc[5]);
      }
    }
  }
  for (int32_t j = 0; j < J; ++j) {
    const T r = prior_residual(tree, j, s.q[j]);
    H[int64_t(6 + j) * n + 6 + j] += posture_weight + (r != T(0) ? tree.prior_weight[j] : T(0));
    g[6 + j] += posture_weight * (posture[j] - s.q[j]) + tree.prior_weight[j] * r;
  }
}

template <typename T>
MIMICLAB_HD void copy(const T* src, T* dst, int64_t count) {
  for (int64_t i = 0; i < count; ++i) dst[i] = src[i];
}

}  // namespace ik_detail

// Solve clip c (all its frames in order). `workspace` holds ik_workspace_size(B, J, K) scalars.
template <typename T>
MIMICLAB_HD void ik_solve_clip(const IkTree<T>& tree, const IkTargets<T>& tg, const IkParams<T>& prm,
                               int64_t c, int32_t num_frames, const T* init_root_pos,
                               const T* init_root_quat, const T* init_joint_pos,
                               const T* posture_all, const IkOutputs<T>& out, T* workspace) {
  using namespace ik_detail;
  const int32_t B = tree.fk.num_bodies, J = tree.num_joints, K = tg.num_targets, n = 6 + J;
  T* cursor = workspace;
  State<T> cur = make_state<T>(cursor, B, J, K);
  State<T> cand = make_state<T>(cursor, B, J, K);
  T* axis_w = carve(cursor, 3 * int64_t(J));
  T* anchor_w = carve(cursor, 3 * int64_t(J));
  T* H = carve(cursor, int64_t(n) * n);
  T* g = carve(cursor, n);
  T* delta = carve(cursor, n);
  T* lo = carve(cursor, J);
  T* hi = carve(cursor, J);
  T* jcols = carve(cursor, 6 * int64_t(n));
  T* reg = carve(cursor, J);  // the frame's regulariser target m
  const T* posture = posture_all + c * J;

  // Warm start: the initial state for frame 0, then the previous frame's solution.
  copy(init_root_pos + 3 * c, cur.root, 3);
  copy(init_root_quat + 4 * c, cur.root + 3, 4);
  {
    T* rq = cur.root + 3;
    const T norm = std::sqrt(rq[0] * rq[0] + rq[1] * rq[1] + rq[2] * rq[2] + rq[3] * rq[3]);
    for (int i = 0; i < 4; ++i) rq[i] /= norm;
  }
  copy(init_joint_pos + c * J, cur.q, J);

  for (int32_t t = 0; t < num_frames; ++t) {
    const int64_t f = c * num_frames + t;  // frame row in (C, T)
    const T* pos = tg.pos + f * K * 3;
    const T* quat = tg.quat + f * K * 4;
    const T* wp = tg.pos_weight + f * K;
    const T* wr = tg.rot_weight + f * K;
    const bool limit_step = t > 0 || prm.limit_first_frame;
    for (int32_t j = 0; j < J; ++j) {
      lo[j] = tree.lower[j];
      hi[j] = tree.upper[j];
      if (limit_step) {
        const T a = cur.q[j] - tree.max_step[j], b = cur.q[j] + tree.max_step[j];
        if (a > lo[j]) lo[j] = a;
        if (b < hi[j]) hi[j] = b;
      }
      cur.q[j] = cur.q[j] < lo[j] ? lo[j] : (cur.q[j] > hi[j] ? hi[j] : cur.q[j]);
    }
    // Regulariser: posture, velocity (q₁: the projected warm start) and acceleration (q₂: frame t−2).
    const bool has_v = limit_step && prm.velocity_weight > T(0);
    const bool has_a = has_v && t >= 2 && prm.acceleration_weight > T(0);
    const T mu = prm.posture_weight + (has_v ? prm.velocity_weight : T(0)) +
                 (has_a ? prm.acceleration_weight : T(0));
    const T* q2 = out.joint_pos + (f - 2) * J;
    for (int32_t j = 0; j < J; ++j) {
      T m = prm.posture_weight * posture[j];
      if (has_v) m += prm.velocity_weight * cur.q[j];
      if (has_a) m += prm.acceleration_weight * (T(2) * cur.q[j] - q2[j]);
      reg[j] = mu > T(0) ? m / mu : posture[j];
    }
    evaluate(tree, tg, pos, quat, wp, wr, reg, mu, cur);
    T lambda = prm.damping;
    const int32_t iterations = t == 0 ? prm.first_iterations : prm.iterations;
    int32_t used = 0;
    for (int32_t it = 0; it < iterations; ++it) {
      ++used;
      normal_equations(tree, tg, wp, wr, reg, mu, cur, axis_w, anchor_w, jcols, H, g);
      for (int32_t i = 0; i < n; ++i) H[int64_t(i) * n + i] += lambda;
      if (!cholesky_solve(H, n, g, delta)) {
        lambda *= T(10);
        continue;
      }
      for (int i = 0; i < 3; ++i) cand.root[i] = cur.root[i] + delta[i];
      T dq[4];
      quat_exp(delta + 3, dq);
      quat_mul(dq, cur.root + 3, cand.root + 3);
      {
        T* rq = cand.root + 3;
        const T norm = std::sqrt(rq[0] * rq[0] + rq[1] * rq[1] + rq[2] * rq[2] + rq[3] * rq[3]);
        for (int i = 0; i < 4; ++i) rq[i] /= norm;
      }
      T applied = T(0);
      for (int i = 0; i < 6; ++i) applied = abs_(delta[i]) > applied ? abs_(delta[i]) : applied;
      for (int32_t j = 0; j < J; ++j) {
        T v = cur.q[j] + delta[6 + j];
        v = v < lo[j] ? lo[j] : (v > hi[j] ? hi[j] : v);
        cand.q[j] = v;
        const T d = abs_(v - cur.q[j]);
        applied = d > applied ? d : applied;
      }
      evaluate(tree, tg, pos, quat, wp, wr, reg, mu, cand);
      if (cand.cost < cur.cost) {
        const State<T> tmp = cur;
        cur = cand;
        cand = tmp;
        lambda = lambda * T(0.3) > T(1e-7) ? lambda * T(0.3) : T(1e-7);
        if (applied < prm.tol) break;
      } else {
        lambda *= T(10);
      }
    }
    copy(cur.root, out.root_pos + f * 3, 3);
    copy(cur.root + 3, out.root_quat + f * 4, 4);
    copy(cur.q, out.joint_pos + f * J, J);
    for (int32_t k = 0; k < K; ++k) {
      const T* ep = cur.e_pos + 3 * k;
      const T* er = cur.e_rot + 3 * k;
      out.pos_error[f * K + k] = std::sqrt(ep[0] * ep[0] + ep[1] * ep[1] + ep[2] * ep[2]);
      out.rot_error[f * K + k] = std::sqrt(er[0] * er[0] + er[1] * er[1] + er[2] * er[2]);
    }
    out.iterations[f] = used;
  }
}

template <typename T>
void ik_solve_cpu(const IkTree<T>& tree, const IkTargets<T>& tg, const IkParams<T>& prm,
                  int64_t num_clips, int32_t num_frames, const T* init_root_pos,
                  const T* init_root_quat, const T* init_joint_pos, const T* posture,
                  const IkOutputs<T>& out, int num_threads);

// workspace: device buffer of num_clips * ik_workspace_size(B, J, K) scalars.
template <typename T>
int ik_solve_cuda(const IkTree<T>& tree, const IkTargets<T>& tg, const IkParams<T>& prm,
                  int64_t num_clips, int32_t num_frames, const T* init_root_pos,
                  const T* init_root_quat, const T* init_joint_pos, const T* posture,
                  const IkOutputs<T>& out, T* workspace);

}  // namespace mimiclab
