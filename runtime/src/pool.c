/* pool.c - the thread pool of hosted runtimes (pthreads).
 *
 * The user creates one pool, in memory it provides, and passes it to the
 * model's <name>_run_threaded; nothing is allocated per run. A parallel
 * loop of n iterations is split into one contiguous range per thread
 * (thread t gets [n*t/T, n*(t+1)/T)): a fixed partition, so which thread
 * computes an element never changes what it computes, and outputs are
 * bit-identical whatever the thread count. The calling thread runs range 0;
 * workers spin briefly for the next loop (loops follow each other within
 * microseconds in a model) and then sleep on a condition variable.
 */
#include "tidalrt.h"

#include <pthread.h>

/* Polls (about a millisecond) before a thread sleeps: the loops of one model
 * run follow each other within microseconds, and waking a sleeping thread
 * costs tens of them. No pause instruction in the loop: virtual machines
 * take it as a hint to deschedule the spinning CPU. */
#define TIDAL_POOL_SPINS 1000000

struct tidal_worker {
  struct tidal_pool *pool;
  int index;
  pthread_t thread;
};

struct tidal_pool {
  int threads;
  int stop;
  unsigned generation; /* bumped for every loop; read atomically */
  int pending;         /* workers still running the current loop */
  int sleepers;        /* workers asleep (or about to be) on wake */
  tidal_task task;
  void *context;
  int64_t n;
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  struct tidal_worker workers[1]; /* threads - 1 of them */
};

size_t tidal_pool_size(int threads) {
  if (threads < 1)
    return 0;
  return sizeof(struct tidal_pool) +
         (size_t)(threads > 1 ? threads - 2 : 0) * sizeof(struct tidal_worker);
}

static void run_range(struct tidal_pool *p, int t) {
  int64_t begin = p->n * t / p->threads, end = p->n * (t + 1) / p->threads;
  if (begin < end)
    p->task(p->context, begin, end);
}

static unsigned load_generation(struct tidal_pool *p) {
  return __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
}

static void *worker_main(void *arg) {
  struct tidal_worker *w = (struct tidal_worker *)arg;
  struct tidal_pool *p = w->pool;
  unsigned seen = 0;
  for (;;) {
    unsigned g;
    int spins = 0;
    while ((g = load_generation(p)) == seen && spins < TIDAL_POOL_SPINS)
      ++spins;
    if (g == seen) {
      /* Announce the sleep before looking again (both sequentially
       * consistent): tidal_parallel_for bumps the generation and then
       * looks for sleepers, so one of the two sees the other. */
      pthread_mutex_lock(&p->lock);
      __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
      while ((g = __atomic_load_n(&p->generation, __ATOMIC_SEQ_CST)) == seen &&
             !p->stop)
        pthread_cond_wait(&p->wake, &p->lock);
      __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
      pthread_mutex_unlock(&p->lock);
    }
    if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
      return 0;
    seen = g;
    run_range(p, w->index);
    if (__atomic_sub_fetch(&p->pending, 1, __ATOMIC_ACQ_REL) == 0) {
      pthread_mutex_lock(&p->lock);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->lock);
    }
  }
}

struct tidal_pool *tidal_pool_create(void *memory, size_t bytes, int threads) {
  struct tidal_pool *p = (struct tidal_pool *)memory;
  int t;
  if (!memory || threads < 1 || bytes < tidal_pool_size(threads) ||
      (uintptr_t)memory % sizeof(void *) != 0)
    return 0;
  p->threads = threads;
  p->stop = 0;
  p->generation = 0;
  p->pending = 0;
  p->sleepers = 0;
  pthread_mutex_init(&p->lock, 0);
  pthread_cond_init(&p->wake, 0);
  pthread_cond_init(&p->done, 0);
  for (t = 1; t < threads; ++t) {
    struct tidal_worker *w = &p->workers[t - 1];
    w->pool = p;
    w->index = t;
    if (pthread_create(&w->thread, 0, worker_main, w) != 0) {
      p->threads = t; /* destroy joins the ones that started */
      tidal_pool_destroy(p);
      return 0;
    }
  }
  return p;
}

void tidal_pool_destroy(struct tidal_pool *p) {
  int t;
  if (!p)
    return;
  pthread_mutex_lock(&p->lock);
  __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
  __atomic_add_fetch(&p->generation, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (t = 1; t < p->threads; ++t)
    pthread_join(p->workers[t - 1].thread, 0);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->lock);
}

void tidal_parallel_for(struct tidal_pool *p, tidal_task task, void *context,
                        int64_t n) {
  int spins = 0;
  if (n <= 0)
    return;
  if (!p || p->threads == 1 || n == 1) {
    task(context, 0, n);
    return;
  }
  p->task = task;
  p->context = context;
  p->n = n;
  __atomic_store_n(&p->pending, p->threads - 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&p->generation, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) != 0) {
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
  }
  run_range(p, 0);
  while (__atomic_load_n(&p->pending, __ATOMIC_ACQUIRE) != 0 &&
         spins < TIDAL_POOL_SPINS)
    ++spins;
  if (__atomic_load_n(&p->pending, __ATOMIC_ACQUIRE) != 0) {
    pthread_mutex_lock(&p->lock);
    while (__atomic_load_n(&p->pending, __ATOMIC_ACQUIRE) != 0)
      pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
  }
}
