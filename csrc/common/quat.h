// Quaternion / vector helpers shared by the C++ and CUDA kernels. Quaternions are (w, x, y, z).
#pragma once

#if defined(__CUDACC__)
#define MIMICLAB_HD __host__ __device__ __forceinline__
#else
#define MIMICLAB_HD inline
#endif

#include <cmath>

namespace mimiclab {

// a * b (Hamilton product), all (w, x, y, z).
template <typename T>
MIMICLAB_HD void quat_mul(const T* a, const T* b, T* out) {
  const T w = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  const T x = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  const T y = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  const T z = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
  out[0] = w; out[1] = x; out[2] = y; out[3] = z;
}

// Rotate v by unit quaternion q: v + 2 w (u x v) + 2 u x (u x v), u = q.xyz.
template <typename T>
MIMICLAB_HD void quat_rotate(const T* q, const T* v, T* out) {
  const T ux = q[1], uy = q[2], uz = q[3], w = q[0];
  const T tx = T(2) * (uy * v[2] - uz * v[1]);
  const T ty = T(2) * (uz * v[0] - ux * v[2]);
  const T tz = T(2) * (ux * v[1] - uy * v[0]);
  out[0] = v[0] + w * tx + (uy * tz - uz * ty);
  out[1] = v[1] + w * ty + (uz * tx - ux * tz);
  out[2] = v[2] + w * tz + (ux * ty - uy * tx);
}

// Rotation of `angle` radians about the unit `axis`.
template <typename T>
MIMICLAB_HD void quat_from_axis_angle(const T* axis, T angle, T* out) {
  const T h = angle * T(0.5);
  const T s = std::sin(h);
  out[0] = std::cos(h); out[1] = axis[0] * s; out[2] = axis[1] * s; out[3] = axis[2] * s;
}

}  // namespace mimiclab
