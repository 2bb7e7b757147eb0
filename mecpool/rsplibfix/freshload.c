/*
 * librspfreshload: fresh pool element loads and no timer.c:76 abort, for the
 * stock RSPLIB pool element (rspserver; 3.0.1 to 3.5.x), loaded with LD_PRELOAD.
 * Written for MEC-Pool; see docs/rsplib-fix.md for the evidence and the argument.
 *
 * Two faults of RSPLIB's pool element side, both in the re-registration path:
 *
 * 1. Stale loads.  rsp_register_tags() of a registered PE (called on every job
 *    start and end) only re-arms the PE's ReregistrationTimer for "now" with
 *    timerRestart().  The timer belongs to the dispatcher whose timers the ASAP
 *    instance's main-loop thread runs; that thread sleeps in poll() with the
 *    timeout it computed before and nothing wakes it, so the new load leaves
 *    with its next wake-up, normally the registrar's endpoint keep-alive (5 s).
 *    Here: the main loop's own wait, and no other poll() of that thread, also
 *    watches an eventfd of ours, which a timer started or moved forward by any
 *    other thread signals.  The loop then runs as after any wake-up: it fires
 *    the timers that are due (none early: the dispatcher compares each timer's
 *    time with the clock) and computes its next timeout afresh.  The main
 *    loop's wait is recognised by its shape: asapInstanceMainLoop() polls the
 *    dispatcher's descriptors and, last, the read end of its MainLoopPipe for
 *    POLLIN; every other poll() of that thread (sendtoplus(), recvfromplus(),
 *    the registrar hunt) waits on sockets only, and reads a return of 0 as
 *    "timed out", so it must not be woken.
 *    Re-registrations asked for "now" are spaced by at least COALESCE_US: one
 *    asked for sooner after the last is moved to the end of that window, and
 *    the changes meanwhile ride with it (the callback reads the PE's load when
 *    it runs, so the newest load wins).
 *
 * 2. The abort "INTERNAL ERROR in ./src/timer.c, line 76: condition
 *    !simpleRedBlackTreeNodeIsLinked(&timer->Node)".  The main-loop thread
 *    unlinks a due timer and runs its callback with the dispatcher unlocked;
 *    the re-registration callback ends with timerStart().  If the
 *    application thread re-arms the same timer meanwhile (timerRestart =
 *    timerStop + timerStart, each taking the lock on its own), one of the two
 *    timerStart() calls finds the timer linked and RSPLIB aborts the PE.  Here:
 *    timerStart() and timerRestart() test and link under the dispatcher's
 *    (recursive) lock, and a timerStart() that finds its timer already running
 *    keeps the earlier of the two times instead of aborting.  That is the only
 *    case whose behaviour changes, and stock RSPLIB aborts in it.
 *
 * Nothing else is changed: every other call passes straight to RSPLIB and libc.
 * The struct Timer layout is checked once against RSPLIB's own timerNew(); on
 * a layout we do not know, the guard of (2) and the spacing stay off (and say
 * so on stderr) while the wake-up still works, as it needs no layout.
 *
 * The library must load with glibc 2.27 (Ubuntu 18.04) and later: glibc 2.34
 * moved the dl* functions from libdl into libc under a new version, so they
 * are bound to their first version below (libdl.so.2, which the build links,
 * defines it before 2.34, libc after), and no pthread function that only
 * libpthread had before 2.34 is used.  The build checks the result
 * (mecpool/rsplibfix/glibc.py).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#if defined(__x86_64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dladdr,dladdr@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");
#endif

/* Least spacing of the re-registrations asked for "now" (microseconds). */
#define COALESCE_US 20000ULL

struct Dispatcher;

/* RSPLIB 3.x src/timer.h: struct Timer behind a 48-byte red-black tree node. */
struct TimerLayout {
   unsigned char      Node[48];
   struct Dispatcher* Master;
   unsigned long long TimeStamp;
   void*              Callback;
   void*              UserData;
};
struct Timer;
typedef void (*TimerCallback)(struct Dispatcher*, struct Timer*, void*);

static void (*rsp_timerNew)(struct Timer*, struct Dispatcher*, TimerCallback, void*);
static void (*rsp_timerStart)(struct Timer*, unsigned long long);
static void (*rsp_timerStop)(struct Timer*);
static bool (*rsp_timerIsRunning)(struct Timer*);
static void (*rsp_dispatcherLock)(struct Dispatcher*);
static void (*rsp_dispatcherUnlock)(struct Dispatcher*);
static unsigned long long (*rsp_getMicroTime)(void);
static int  (*libc_pthread_create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
static int  (*libc_poll)(struct pollfd*, nfds_t, int);
static int  (*libc_poll_chk)(struct pollfd*, nfds_t, int, size_t);

static pthread_mutex_t resolve_lock = PTHREAD_MUTEX_INITIALIZER;
static int             resolved;          /* RSPLIB's functions are known */
static bool            guard_on;          /* (2) and the spacing: the layout was verified */
static int             wake_fd = -1;      /* (1): eventfd of the main-loop thread */
static __thread bool   in_main_loop;      /* this thread is RSPLIB's ASAP main loop */

/* The last re-registration of each timer re-armed for "now" by another thread:
   when the main loop re-armed it from its callback (reregistrationTimer()). */
struct Spacing {
   struct Timer*      timer;
   unsigned long long last;
};
static struct Spacing  spacings[8];       /* one per pool element; rspserver has one */
static pthread_mutex_t spacing_lock = PTHREAD_MUTEX_INITIALIZER;

static void* must(const char* name)
{
   void* symbol = dlsym(RTLD_NEXT, name);
   if(symbol == NULL) {
      fprintf(stderr, "librspfreshload: %s not found: %s\n", name, dlerror());
      abort();
   }
   return symbol;
}

static void probe_callback(struct Dispatcher* d, struct Timer* t, void* u)
{
   (void)d; (void)t; (void)u;
}

/* Resolve RSPLIB's functions (present in every rspserver) and check the layout. */
static void resolve(void)
{
   rsp_timerNew         = must("timerNew");
   rsp_timerStart       = must("timerStart");
   rsp_timerStop        = must("timerStop");
   rsp_timerIsRunning   = must("timerIsRunning");
   rsp_dispatcherLock   = must("dispatcherLock");
   rsp_dispatcherUnlock = must("dispatcherUnlock");
   rsp_getMicroTime     = must("getMicroTime");

   union { struct TimerLayout layout; unsigned char bytes[256]; } probe;
   struct Dispatcher* marker = (struct Dispatcher*)&probe;   /* never dereferenced */
   memset(&probe, 0xa5, sizeof(probe));
   rsp_timerNew((struct Timer*)&probe, marker, probe_callback, &guard_on);
   guard_on = (probe.layout.Master == marker) && (probe.layout.TimeStamp == 0) &&
              (probe.layout.Callback == (void*)probe_callback) &&
              (probe.layout.UserData == (void*)&guard_on) &&
              !rsp_timerIsRunning((struct Timer*)&probe);
   if(!guard_on) {
      fputs("librspfreshload: unknown struct Timer layout; the timer.c:76 guard is off\n", stderr);
   }
}

static void ensure_resolved(void)
{
   if(!__atomic_load_n(&resolved, __ATOMIC_ACQUIRE)) {
      pthread_mutex_lock(&resolve_lock);
      if(!resolved) {
         resolve();
         __atomic_store_n(&resolved, 1, __ATOMIC_RELEASE);
      }
      pthread_mutex_unlock(&resolve_lock);
   }
}

static void wake_main_loop(void)
{
   static const uint64_t one = 1;
   if((wake_fd >= 0) && !in_main_loop) {
      /* EAGAIN: the counter is already non-zero, the loop will wake anyway. */
      if(write(wake_fd, &one, sizeof(one)) < 0) { }
   }
}

/* The spacing entry of a timer; with add, a new one (NULL when all are taken:
   that timer is then not spaced).  Called with spacing_lock held. */
static struct Spacing* spacing_of(struct Timer* timer, bool add)
{
   struct Spacing* empty = NULL;
   for(size_t i = 0; i < sizeof(spacings) / sizeof(spacings[0]); i++) {
      if(spacings[i].timer == timer) {
         return &spacings[i];
      }
      if((empty == NULL) && (spacings[i].timer == NULL)) {
         empty = &spacings[i];
      }
   }
   if(add && (empty != NULL)) {
      empty->timer = timer;
      empty->last  = 0;
      return empty;
   }
   return NULL;
}

/* ====== (2) timers linked under the dispatcher's lock ==================== */
void timerStart(struct Timer* timer, const unsigned long long timeStamp)
{
   ensure_resolved();
   if(!guard_on) {
      rsp_timerStart(timer, timeStamp);
      wake_main_loop();
      return;
   }
   struct TimerLayout* view   = (struct TimerLayout*)timer;
   struct Dispatcher*  master = view->Master;
   bool                linked = true;
   rsp_dispatcherLock(master);
   if(in_main_loop) {
      /* From the main loop, a spaced timer is re-armed by its callback,
         reregistrationTimer(), right after the registration left. */
      pthread_mutex_lock(&spacing_lock);
      struct Spacing* spacing = spacing_of(timer, false);
      if(spacing != NULL) {
         spacing->last = rsp_getMicroTime();
      }
      pthread_mutex_unlock(&spacing_lock);
   }
   if(!rsp_timerIsRunning(timer)) {
      rsp_timerStart(timer, timeStamp);
   }
   else if(timeStamp < view->TimeStamp) {   /* stock RSPLIB aborts here */
      rsp_timerStop(timer);
      rsp_timerStart(timer, timeStamp);
   }
   else {
      linked = false;                        /* it stays as it was */
   }
   rsp_dispatcherUnlock(master);
   if(linked) {
      wake_main_loop();
   }
}

void timerRestart(struct Timer* timer, const unsigned long long timeStamp)
{
   ensure_resolved();
   if(!guard_on) {
      rsp_timerStop(timer);
      rsp_timerStart(timer, timeStamp);
      wake_main_loop();
      return;
   }
   struct TimerLayout* view   = (struct TimerLayout*)timer;
   struct Dispatcher*  master = view->Master;
   unsigned long long  due    = timeStamp;
   bool                moved  = true;
   rsp_dispatcherLock(master);
   const unsigned long long now = rsp_getMicroTime();
   if(!in_main_loop && (timeStamp <= now)) {
      /* "As soon as possible" (rsp_register_tags()): not sooner than
         COALESCE_US after the last re-registration. */
      pthread_mutex_lock(&spacing_lock);
      struct Spacing* spacing = spacing_of(timer, true);
      if((spacing != NULL) && (spacing->last <= now) && (spacing->last + COALESCE_US > now)) {
         due = spacing->last + COALESCE_US;
      }
      pthread_mutex_unlock(&spacing_lock);
      if(rsp_timerIsRunning(timer) && (view->TimeStamp <= ((due > now) ? due : now))) {
         moved = false;   /* already due by then: that run sends the newest load */
      }
   }
   if(moved) {
      rsp_timerStop(timer);
      rsp_timerStart(timer, due);
   }
   rsp_dispatcherUnlock(master);
   if(moved) {
      wake_main_loop();
   }
}

/* ====== (1) the main loop's wait also waits for wake_fd ================== */
struct StartArgs {
   void* (*routine)(void*);
   void*  argument;
};

static void* main_loop_start(void* raw)
{
   struct StartArgs args = *(struct StartArgs*)raw;
   free(raw);
   in_main_loop = true;
   return args.routine(args.argument);
}

static bool in_librsplib(void* (*routine)(void*))
{
   Dl_info info;
   if(dladdr((void*)routine, &info) == 0 || info.dli_fname == NULL) {
      return false;
   }
   const char* base = strrchr(info.dli_fname, '/');
   return strncmp(base ? base + 1 : info.dli_fname, "librsplib.so", 12) == 0;
}

int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                   void* (*routine)(void*), void* argument)
{
   if(libc_pthread_create == NULL) {
      libc_pthread_create = must("pthread_create");
   }
   /* librsplib starts exactly one thread: asapInstanceMainLoop (asapinstance.c). */
   if((wake_fd < 0) && in_librsplib(routine)) {
      struct StartArgs* args = malloc(sizeof(*args));
      int               fd   = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if((args != NULL) && (fd >= 0)) {
         args->routine  = routine;
         args->argument = argument;
         wake_fd        = fd;
         const int result = libc_pthread_create(thread, attr, main_loop_start, args);
         if(result != 0) {
            free(args);
            close(fd);
            wake_fd = -1;
         }
         return result;
      }
      free(args);
      if(fd >= 0) {
         close(fd);
      }
   }
   return libc_pthread_create(thread, attr, routine, argument);
}

/* asapInstanceMainLoop()'s wait, in RSPLIB 3.0.1 to 3.5.x: in its thread, the
   dispatcher's descriptors and, last, its MainLoopPipe's read end for POLLIN.
   No other poll() of that thread has a pipe in its set (F_GETPIPE_SZ fails on
   anything but a pipe). */
static bool is_main_loop_wait(const struct pollfd* fds, nfds_t nfds)
{
   return in_main_loop && (wake_fd >= 0) && (nfds >= 1) && (nfds <= FD_SETSIZE) &&
          (fds[nfds - 1].events == POLLIN) && (fcntl(fds[nfds - 1].fd, F_GETPIPE_SZ) >= 0);
}

static int poll_with_wake(struct pollfd* fds, nfds_t nfds, int timeout)
{
   struct pollfd all[FD_SETSIZE + 1];
   memcpy(all, fds, nfds * sizeof(struct pollfd));
   all[nfds].fd      = wake_fd;
   all[nfds].events  = POLLIN;
   all[nfds].revents = 0;
   int result = libc_poll(all, nfds + 1, timeout);
   if(result <= 0) {
      return result;
   }
   for(nfds_t i = 0; i < nfds; i++) {
      fds[i].revents = all[i].revents;
   }
   if(all[nfds].revents != 0) {
      uint64_t count;
      if(read(wake_fd, &count, sizeof(count)) < 0) { }
      result--;   /* our descriptor is not the caller's: 0 reads as a timeout */
   }
   return result;
}

int poll(struct pollfd* fds, nfds_t nfds, int timeout)
{
   if(libc_poll == NULL) {
      libc_poll = must("poll");
   }
   if(is_main_loop_wait(fds, nfds)) {
      return poll_with_wake(fds, nfds, timeout);
   }
   return libc_poll(fds, nfds, timeout);
}

/* _FORTIFY_SOURCE builds call this instead of poll() (asapInstanceMainLoop does). */
int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout, size_t fdslen)
{
   if(libc_poll_chk == NULL) {
      libc_poll_chk = must("__poll_chk");
   }
   if(libc_poll == NULL) {
      libc_poll = must("poll");
   }
   if((fdslen / sizeof(*fds) >= nfds) && is_main_loop_wait(fds, nfds)) {
      return poll_with_wake(fds, nfds, timeout);
   }
   return libc_poll_chk(fds, nfds, timeout, fdslen);
}
