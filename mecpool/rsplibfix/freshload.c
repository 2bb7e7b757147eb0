/*
 * librspfreshload: fresh pool element loads and no timer.c:76 abort, for the
 * stock RSPLIB 3.4.x pool element (rspserver), loaded with LD_PRELOAD.
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
 *    Here: the main-loop thread's poll() also watches an eventfd of ours, and
 *    a timer started or re-armed by any other thread signals it.  The loop then
 *    runs as after any wake-up: it fires the timers that are due (none early:
 *    the dispatcher compares each timer's time with the clock) and computes
 *    its next timeout afresh.
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
 * a layout we do not know, the guard of (2) stays off (and says so on stderr)
 * while (1) still works, as it needs no layout.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct Dispatcher;

/* RSPLIB 3.4.x src/timer.h: struct Timer behind a 48-byte red-black tree node. */
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
static int  (*libc_pthread_create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
static int  (*libc_poll)(struct pollfd*, nfds_t, int);
static int  (*libc_poll_chk)(struct pollfd*, nfds_t, int, size_t);

static pthread_once_t  resolved = PTHREAD_ONCE_INIT;
static bool            guard_on;          /* (2): the layout was verified */
static int             wake_fd = -1;      /* (1): eventfd of the main-loop thread */
static __thread bool   in_main_loop;      /* this thread is RSPLIB's ASAP main loop */

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

static void wake_main_loop(void)
{
   static const uint64_t one = 1;
   if((wake_fd >= 0) && !in_main_loop) {
      /* EAGAIN: the counter is already non-zero, the loop will wake anyway. */
      if(write(wake_fd, &one, sizeof(one)) < 0) { }
   }
}

/* ====== (2) timers linked under the dispatcher's lock ==================== */
void timerStart(struct Timer* timer, const unsigned long long timeStamp)
{
   pthread_once(&resolved, resolve);
   if(!guard_on) {
      rsp_timerStart(timer, timeStamp);
      wake_main_loop();
      return;
   }
   struct TimerLayout* view = (struct TimerLayout*)timer;
   struct Dispatcher*  master = view->Master;
   rsp_dispatcherLock(master);
   if(!rsp_timerIsRunning(timer)) {
      rsp_timerStart(timer, timeStamp);
   }
   else if(timeStamp < view->TimeStamp) {   /* stock RSPLIB aborts here */
      rsp_timerStop(timer);
      rsp_timerStart(timer, timeStamp);
   }
   rsp_dispatcherUnlock(master);
   wake_main_loop();
}

void timerRestart(struct Timer* timer, const unsigned long long timeStamp)
{
   pthread_once(&resolved, resolve);
   if(!guard_on) {
      rsp_timerStop(timer);
      rsp_timerStart(timer, timeStamp);
      wake_main_loop();
      return;
   }
   struct Dispatcher* master = ((struct TimerLayout*)timer)->Master;
   rsp_dispatcherLock(master);
   rsp_timerStop(timer);
   rsp_timerStart(timer, timeStamp);
   rsp_dispatcherUnlock(master);
   wake_main_loop();
}

/* ====== (1) the main-loop thread's poll() also waits for wake_fd ========= */
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

static int poll_with_wake(struct pollfd* fds, nfds_t nfds, int timeout)
{
   struct pollfd all[FD_SETSIZE + 2];
   if(nfds > FD_SETSIZE + 1) {
      return libc_poll(fds, nfds, timeout);
   }
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
   if(in_main_loop && (wake_fd >= 0)) {
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
   if(in_main_loop && (wake_fd >= 0) && (fdslen / sizeof(*fds) >= nfds)) {
      return poll_with_wake(fds, nfds, timeout);
   }
   return libc_poll_chk(fds, nfds, timeout, fdslen);
}
