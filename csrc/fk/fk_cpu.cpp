#include "fk/fk.h"

#include "common/parallel.h"

namespace mimiclab {

template <typename T>
void fk_forward_cpu(const FkTree<T>& tree, int64_t batch, int32_t num_joints, const T* root_pos,
                    const T* root_quat, const T* joint_pos, T* body_pos, T* body_quat,
                    int num_threads) {
  parallel_for(batch, num_threads, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      fk_item(tree, n, num_joints, root_pos, root_quat, joint_pos, body_pos, body_quat);
  });
}

template void fk_forward_cpu<float>(const FkTree<float>&, int64_t, int32_t, const float*,
                                    const float*, const float*, float*, float*, int);
template void fk_forward_cpu<double>(const FkTree<double>&, int64_t, int32_t, const double*,
                                     const double*, const double*, double*, double*, int);

}  // namespace mimiclab
