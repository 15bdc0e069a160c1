/*
 * Native anchors for `npm run bench`: what the modelled operations cost on
 * this host's real kernel, measured in the same run as the model, so the
 * model's figures can be read as ratios to them.
 *
 *   munmap_ns_per_page    munmap of touched private anonymous pages
 *   madvise_ns_per_page   MADV_DONTNEED of touched pages
 *   shootdown_ns          an mprotect that must shoot down another core's
 *                         TLB (a second thread keeps reading the page on the
 *                         other core), less the same mprotect with no other
 *                         thread: about one IPI round trip
 *   pingpong_ns           a cache line bounced between two cores by two
 *                         spinning threads: one round trip
 *   fault_ns_per_page     the first write to each page of a fresh private
 *                         anonymous mapping: one page fault (zeroing included)
 *   switch_ns             two threads on one core passing a byte through
 *                         two pipes: half a round trip, one context switch
 *                         with its read and write system calls
 *
 * Every loop is bounded; a spinning thread gives up after SPIN_LIMIT tries,
 * so a descheduled partner can slow the figure but never hang the bench.
 * Prints one JSON object.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define PAGES 4096
#define ROUNDS 15
#define MPROTECTS 20000
#define PINGPONGS 200000
#define SPIN_LIMIT 100000000L

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *xs, int n) {
  qsort(xs, n, sizeof *xs, cmp);
  return xs[n / 2];
}

static void pin(int cpu) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % cpus, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static double last_fault_ns;

static char *touched(size_t pages) {
  char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  double t0 = now_ns();
  for (size_t i = 0; i < pages; i++) p[i * PAGE] = 1;
  last_fault_ns = (now_ns() - t0) / pages;
  return p;
}

static double fault_ns_per_page(void) {
  double per[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) {
    char *p = touched(PAGES);
    per[r] = last_fault_ns;
    munmap(p, PAGES * PAGE);
  }
  return median(per, ROUNDS);
}

#define SWITCHES 20000
static int ping[2], pong[2];

static void *switcher(void *arg) {
  (void)arg;
  pin(0);
  char c;
  for (int i = 0; i < SWITCHES; i++) {
    if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) return (void *)1;
  }
  return NULL;
}

static double switch_ns(void) {
  if (pipe(ping) || pipe(pong)) return -1;
  pthread_t t;
  pin(0);
  pthread_create(&t, NULL, switcher, NULL);
  char c = 0;
  double t0 = now_ns();
  for (int i = 0; i < SWITCHES; i++) {
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) break;
  }
  double ns = (now_ns() - t0) / (2.0 * SWITCHES);
  void *r;
  pthread_join(t, &r);
  close(ping[0]); close(ping[1]); close(pong[0]); close(pong[1]);
  return r ? -1 : ns;
}

static double unmap_ns_per_page(int dontneed) {
  double per[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) {
    char *p = touched(PAGES);
    double t0 = now_ns();
    if (dontneed) madvise(p, PAGES * PAGE, MADV_DONTNEED);
    else munmap(p, PAGES * PAGE);
    per[r] = (now_ns() - t0) / PAGES;
    if (dontneed) munmap(p, PAGES * PAGE);
  }
  return median(per, ROUNDS);
}

static atomic_int reader_stop;
static atomic_int reader_ready;
static volatile char *shared_page;

static void *reader(void *arg) {
  (void)arg;
  pin(1);
  atomic_store(&reader_ready, 1);
  long spins = 0;
  while (!atomic_load_explicit(&reader_stop, memory_order_relaxed) && ++spins < SPIN_LIMIT * 10) (void)shared_page[0];
  return NULL;
}

static double mprotect_ns(int with_reader) {
  char *p = touched(1);
  shared_page = p;
  pthread_t t;
  atomic_store(&reader_stop, 0);
  atomic_store(&reader_ready, 0);
  if (with_reader) {
    pthread_create(&t, NULL, reader, NULL);
    for (long i = 0; !atomic_load(&reader_ready) && i < SPIN_LIMIT; i++) sched_yield();
  }
  pin(0);
  double t0 = now_ns();
  for (int i = 0; i < MPROTECTS; i++) {
    mprotect(p, PAGE, PROT_READ);
    mprotect(p, PAGE, PROT_READ | PROT_WRITE);
  }
  double ns = (now_ns() - t0) / (2.0 * MPROTECTS);
  atomic_store(&reader_stop, 1);
  if (with_reader) pthread_join(t, NULL);
  munmap(p, PAGE);
  return ns;
}

static _Alignas(64) atomic_long ball;

static void *bouncer(void *arg) {
  long me = (long)arg;
  pin((int)me);
  for (long i = 0; i < PINGPONGS; i++) {
    long want = 2 * i + me;
    for (long s = 0; atomic_load_explicit(&ball, memory_order_acquire) != want; s++)
      if (s > SPIN_LIMIT) return (void *)1;
    atomic_store_explicit(&ball, want + 1, memory_order_release);
  }
  return NULL;
}

static double pingpong_ns(void) {
  pthread_t a, b;
  atomic_store(&ball, 0);
  double t0 = now_ns();
  pthread_create(&a, NULL, bouncer, (void *)0L);
  pthread_create(&b, NULL, bouncer, (void *)1L);
  void *ra, *rb;
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  if (ra || rb) return -1;
  return (now_ns() - t0) / PINGPONGS;
}

int main(void) {
  double munmap_ns = unmap_ns_per_page(0);
  double madvise_ns = unmap_ns_per_page(1);
  double alone = mprotect_ns(0);
  double shot = mprotect_ns(1);
  double pp = pingpong_ns();
  double fault = fault_ns_per_page();
  double sw = switch_ns();
  printf("{\"munmap_ns_per_page\": %.1f, \"madvise_ns_per_page\": %.1f, \"mprotect_alone_ns\": %.1f, \"mprotect_shootdown_ns\": %.1f, \"shootdown_ns\": %.1f, \"pingpong_ns\": %.1f, \"fault_ns_per_page\": %.1f, \"switch_ns\": %.1f, \"cpus\": %ld}\n",
         munmap_ns, madvise_ns, alone, shot, shot - alone, pp, fault, sw, sysconf(_SC_NPROCESSORS_ONLN));
  return 0;
}
