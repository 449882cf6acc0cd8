// bench_mutex_boost.cpp - uncontended lock + unlock of the mutex a C++
// program would otherwise pick, Boost.Interprocess's interprocess_mutex in
// shared memory, against mmf_mutex_lock + mmf_mutex_unlock and a glibc
// robust process-shared pthread mutex, in the same run, interleaved.
//
//   bench_mutex_boost [--runs N]
//
// All three live in one MAP_SHARED anonymous mapping (as they would in
// shared memory). Prints a markdown table and "R" lines for bench/run.sh.
#include <algorithm>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <pthread.h>
#include <vector>

#include "mmf.h"

namespace {

constexpr int kOps = 5000000;

double now_ns() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char **argv) {
  int runs = 7;
  if (argc == 3 && std::strcmp(argv[1], "--runs") == 0)
    runs = std::atoi(argv[2]);
  if (runs < 1) {
    std::fprintf(stderr, "usage: bench_mutex_boost [--runs N]\n");
    return 2;
  }
  mmf_map *m = nullptr;
  if (mmf_anon(&m, 1 << 16, MMF_SHARED) != 0) {
    std::fprintf(stderr, "bench_mutex_boost: mmf_anon failed\n");
    return 1;
  }
  unsigned char *p = static_cast<unsigned char *>(mmf_data(m));
  auto *boost_mu = new (p + 4096) boost::interprocess::interprocess_mutex;
  auto *robust = reinterpret_cast<pthread_mutex_t *>(p + 8192);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(robust, &a);

  std::vector<double> t[3];
  for (int r = 0; r < runs; r++) {
    for (int k = 0; k < 3; k++) {
      int which = (k + r) % 3;
      double t0 = now_ns();
      for (int i = 0; i < kOps; i++) {
        if (which == 0) {
          if (mmf_mutex_lock(m, 0, -1) != 0 || mmf_mutex_unlock(m, 0) != 0)
            return 1;
        } else if (which == 1) {
          boost_mu->lock();
          boost_mu->unlock();
        } else {
          pthread_mutex_lock(robust);
          pthread_mutex_unlock(robust);
        }
      }
      t[which].push_back((now_ns() - t0) / kOps);
    }
  }
  double mmf = median(t[0]), boost = median(t[1]), rob = median(t[2]);
  std::printf("\n### Uncontended lock + unlock against Boost.Interprocess "
              "(ns per pair, median of %d runs of %d)\n\n",
              runs, kOps);
  std::printf("| mutex | ns | vs Boost |\n|---|---|---|\n");
  std::printf("| mmf_mutex_lock + unlock | %.1f | %.2fx |\n", mmf,
              mmf / boost);
  std::printf("| boost::interprocess::interprocess_mutex | %.1f | 1.00x |\n",
              boost);
  std::printf("| glibc robust process-shared pthread mutex | %.1f | %.2fx |\n",
              rob, rob / boost);
  std::printf("R boost mmf %.2f\nR boost boost %.2f\nR boost robust %.2f\n",
              mmf, boost, rob);
  boost_mu->~interprocess_mutex();
  mmf_close(m);
  return 0;
}
