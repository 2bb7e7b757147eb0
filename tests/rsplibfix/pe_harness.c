/*
 * Drives RSPLIB's own code (Debian's librspdispatcher, libtdnetutilities, libtdtimeutilities)
 * the way its pool element does, to test librspfreshload on the host (no SCTP needed).
 *
 * The timer.c:76 guard (RSPLIB's timer code):
 *   double-start: timerStart() on a running timer, as the re-registration callback
 *                 does when the application re-armed the timer meanwhile;
 *   later-start:  the same with a later time (the earlier one must stay);
 *   race:         two threads as in the PE: the "ASAP thread" unlinks the due timer
 *                 under the dispatcher lock and then starts it again unlocked (the end
 *                 of reregistrationTimer()), while the "application thread" calls
 *                 timerRestart(timer, 0) (rsp_register_tags()) in a loop.
 * Prints "running=<0|1> timestamp=<n>" (single cases) or "race: <n> rounds".
 *
 * The wake-up, in a thread started through asap_thread.c (librsplib.so.0.harness), which
 * the library takes for the ASAP main-loop thread, while the "application thread"
 * re-arms a timer every 10 ms:
 *   send:       RSPLIB's sendtoplus() (netutilities.c; ASAP messages to the registrar)
 *               with a 3 s timeout on a UNIX stream socket whose buffer is full; the
 *               peer drains it after 1 s.  Prints "send: result=<n> of 100 after <ms> ms".
 *   recv:       RSPLIB's recvfromplus() with a 3 s timeout; the peer writes after 1 s.
 *               Prints "recv: result=<n> after <ms> ms".
 *   wake chk|poll: the main loop's wait as asapInstanceMainLoop() makes it (the
 *               dispatcher's descriptors, then its pipe's read end; through __poll_chk
 *               as the Debian binary, or poll), 3 s timeout; one timerRestart(timer, 0)
 *               after 200 ms.  Prints "wake: result=<n> after <ms> ms".
 *   rate CHANGES_PER_S SECONDS KEEPALIVE_MS: asapInstanceMainLoop()'s loop around the
 *               dispatcher (its poll timeout capped at KEEPALIVE_MS, as the registrar's
 *               keep-alive wakes it), a re-registration timer whose callback counts a
 *               registration and re-arms itself as reregistrationTimer() does, and load
 *               changes (timerRestart(timer, 0), as rsp_register_tags()) at exponential
 *               spacing.  Prints "rate: changes=<n> registrations=<n> per_s=<x>
 *               max_scheduled_ms=<x> median_delay_ms=<x> max_delay_ms=<x>" (scheduled: from a
 *               change to when the timer is due, as the library set it; delay: from the oldest
 *               unsent change to the registration that carries it, which adds the scheduling).
 * RSPLIB's headers are not installed; the prototypes below are those of 3.4.4.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct Dispatcher;
struct Timer;
typedef void (*TimerCallback)(struct Dispatcher*, struct Timer*, void*);
typedef void (*LockFunction)(struct Dispatcher*, void*);

void dispatcherNew(struct Dispatcher*, LockFunction, LockFunction, void*);
void dispatcherLock(struct Dispatcher*);
void dispatcherUnlock(struct Dispatcher*);
void timerNew(struct Timer*, struct Dispatcher*, TimerCallback, void*);
void timerStart(struct Timer*, unsigned long long);
void timerRestart(struct Timer*, unsigned long long);
void timerStop(struct Timer*);
bool timerIsRunning(struct Timer*);
void dispatcherGetPollParameters(struct Dispatcher*, struct pollfd*, unsigned int*, int*,
                                 unsigned long long*);
void dispatcherHandlePollResult(struct Dispatcher*, int, struct pollfd*, unsigned int, int,
                                unsigned long long);
unsigned long long getMicroTime(void);
int sendtoplus(int, const void*, size_t, int, void*, size_t, uint32_t, int32_t, uint16_t,
               uint32_t, uint16_t, unsigned long long);
int recvfromplus(int, void*, size_t, int*, struct sockaddr*, socklen_t*, uint32_t*, int32_t*,
                 uint16_t*, unsigned long long);
int __poll_chk(struct pollfd*, nfds_t, int, size_t);

struct AsapJob {
   void* (*run)(void*);
   void*  argument;
};
void* asapHarnessThread(void*);   /* asap_thread.c */

static pthread_mutex_t mutex;
static void lock(struct Dispatcher* d, void* u) { (void)d; (void)u; pthread_mutex_lock(&mutex); }
static void unlock(struct Dispatcher* d, void* u) { (void)d; (void)u; pthread_mutex_unlock(&mutex); }
static void callback(struct Dispatcher* d, struct Timer* t, void* u) { (void)d; (void)t; (void)u; }

static union { char bytes[4096]; void* align; } dispatcher;
static union { char bytes[256]; void* align; } timer;
#define DISPATCHER ((struct Dispatcher*)&dispatcher)
#define TIMER      ((struct Timer*)&timer)

static unsigned long long timestamp_of(const void* timer_bytes)
{
   unsigned long long value;
   memcpy(&value, (const char*)timer_bytes + 56, sizeof(value));   /* struct Timer.TimeStamp (3.4.4) */
   return value;
}

static unsigned long long timestamp(void)
{
   return timestamp_of(timer.bytes);
}

static volatile bool stop;
static long rounds;

static void* application(void* arg)
{
   (void)arg;
   while(!stop) {
      timerRestart(TIMER, 0);
   }
   return NULL;
}

/* ====== the wake-up, in the thread the library takes for the ASAP thread ====== */
static int    sv[2];          /* sv[0]: the ASAP thread's socket, sv[1]: its peer */
static char   message[100];   /* about an ASAP Registration */
static int    result;
static double elapsed_ms;
static bool   use_poll_chk;

static double now_ms(void)
{
   struct timespec now;
   clock_gettime(CLOCK_MONOTONIC, &now);
   return (now.tv_sec * 1000.0) + (now.tv_nsec / 1e6);
}

static void sleep_ms(double ms)
{
   struct timespec span = { (time_t)(ms / 1000.0), (long)(fmod(ms, 1000.0) * 1e6) };
   nanosleep(&span, NULL);
}

static pthread_t start(void* (*routine)(void*), void* argument)
{
   pthread_t thread;
   if(pthread_create(&thread, NULL, routine, argument) != 0) {
      perror("pthread_create");
      exit(1);
   }
   return thread;
}

static pthread_t start_asap(void* (*run)(void*))
{
   static struct AsapJob job;
   job.run = run;
   return start(asapHarnessThread, &job);
}

/* rsp_register_tags() on job starts and ends: TIMER re-armed for now every 10 ms. */
static void* rearm_every_10ms(void* arg)
{
   (void)arg;
   while(!stop) {
      timerRestart(TIMER, 0);
      sleep_ms(10);
   }
   return NULL;
}

/* The registrar's side: after 1 s it reads all (send) or sends a message (recv). */
static void* peer_after_1s(void* drain)
{
   char buffer[65536];
   sleep_ms(1000);
   if(drain) {
      while(recv(sv[1], buffer, sizeof(buffer), MSG_DONTWAIT) > 0) { }
   }
   else if(send(sv[1], message, sizeof(message), 0) != (ssize_t)sizeof(message)) {
      perror("send");
   }
   return NULL;
}

static void* asap_send(void* arg)
{
   (void)arg;
   const double begin = now_ms();
   result = sendtoplus(sv[0], message, sizeof(message), 0, NULL, 0, 0, 0, 0, 0, 0, 3000000ULL);
   elapsed_ms = now_ms() - begin;
   return NULL;
}

static void* asap_recv(void* arg)
{
   (void)arg;
   int flags = 0;
   const double begin = now_ms();
   result = recvfromplus(sv[0], message, sizeof(message), &flags, NULL, NULL, NULL, NULL, NULL,
                         3000000ULL);
   elapsed_ms = now_ms() - begin;
   return NULL;
}

/* A full send buffer: nothing, not even one byte, fits any more. */
static void fill(int fd)
{
   static char block[65536];
   for(size_t size = sizeof(block); size > 0; size /= 2) {
      while(send(fd, block, size, MSG_DONTWAIT) > 0) { }
   }
}

static int helper_under_rearming(bool sending)
{
   if(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
      perror("socketpair");
      return 1;
   }
   if(sending) {
      fill(sv[0]);
   }
   pthread_t application = start(rearm_every_10ms, NULL);
   pthread_t peer        = start(peer_after_1s, sending ? (void*)sv : NULL);
   pthread_join(start_asap(sending ? asap_send : asap_recv), NULL);
   stop = true;
   pthread_join(application, NULL);
   pthread_join(peer, NULL);
   if(sending) {
      printf("send: result=%d of %zu after %.0f ms\n", result, sizeof(message), elapsed_ms);
   }
   else {
      printf("recv: result=%d after %.0f ms\n", result, elapsed_ms);
   }
   return 0;
}

/* asapInstanceMainLoop()'s wait: the dispatcher's descriptors, then its pipe's read end. */
static int main_loop_wait(int pipe_read_end, int timeout_ms)
{
   struct pollfd      ufds[FD_SETSIZE];
   unsigned int       nfds;
   int                timeout;
   unsigned long long poll_time_stamp;
   dispatcherGetPollParameters(DISPATCHER, ufds, &nfds, &timeout, &poll_time_stamp);
   if((timeout_ms >= 0) && ((timeout < 0) || (timeout > timeout_ms))) {
      timeout = timeout_ms;   /* what the next registrar message (keep-alive) would end */
   }
   ufds[nfds].fd      = pipe_read_end;
   ufds[nfds].events  = POLLIN;
   ufds[nfds].revents = 0;
   const int polled = use_poll_chk ? __poll_chk(ufds, nfds + 1, timeout, sizeof(ufds))
                                   : poll(ufds, nfds + 1, timeout);
   dispatcherHandlePollResult(DISPATCHER, polled, ufds, nfds, timeout, poll_time_stamp);
   if(ufds[nfds].revents & POLLIN) {
      char buffer[128];
      if(read(pipe_read_end, buffer, sizeof(buffer)) < 0) { }
   }
   return polled;
}

static int loop_pipe[2];

static void* asap_wait_once(void* arg)
{
   (void)arg;
   const double begin = now_ms();
   result = main_loop_wait(loop_pipe[0], 3000);
   elapsed_ms = now_ms() - begin;
   return NULL;
}

static void* rearm_after_200ms(void* arg)
{
   (void)arg;
   sleep_ms(200);
   timerRestart(TIMER, 0);
   return NULL;
}

/* ====== re-registrations per second ====== */
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static long   changes, registrations;
static double oldest_unsent_ms, max_delay_ms, max_scheduled_ms;
static double delays_ms[1 << 16];
static int    keepalive_ms;
static union { char bytes[256]; void* align; } reregistration;
#define REREGISTRATION ((struct Timer*)&reregistration)

/* reregistrationTimer(): the registration (with the load as it is now), then the next. */
static void reregistered(struct Dispatcher* d, struct Timer* t, void* u)
{
   (void)d; (void)t; (void)u;
   pthread_mutex_lock(&stats);
   registrations++;
   if(oldest_unsent_ms > 0.0) {
      const double delay = now_ms() - oldest_unsent_ms;
      max_delay_ms     = (delay > max_delay_ms) ? delay : max_delay_ms;
      oldest_unsent_ms = 0.0;
      if(registrations <= (long)(sizeof(delays_ms) / sizeof(delays_ms[0]))) {
         delays_ms[registrations - 1] = delay;
      }
   }
   pthread_mutex_unlock(&stats);
   timerStart(REREGISTRATION, getMicroTime() + 30000000ULL);
}

static void* asap_main_loop(void* arg)
{
   (void)arg;
   while(!stop) {
      main_loop_wait(loop_pipe[0], keepalive_ms);
   }
   return NULL;
}

static int compare_doubles(const void* a, const void* b)
{
   const double x = *(const double*)a, y = *(const double*)b;
   return (x > y) - (x < y);
}

static int rate(double changes_per_s, double seconds)
{
   unsigned int seed = 1;
   timerNew(REREGISTRATION, DISPATCHER, reregistered, NULL);
   timerStart(REREGISTRATION, getMicroTime() + 30000000ULL);   /* a registered PE */
   pthread_t loop = start_asap(asap_main_loop);
   const double end = now_ms() + (seconds * 1000.0);
   while(now_ms() < end) {
      const double uniform = (rand_r(&seed) + 1.0) / (RAND_MAX + 2.0);
      sleep_ms(-log(uniform) * 1000.0 / changes_per_s);
      pthread_mutex_lock(&stats);                   /* a job starts or ends: new load */
      changes++;
      if(oldest_unsent_ms == 0.0) {
         oldest_unsent_ms = now_ms();
      }
      pthread_mutex_unlock(&stats);
      /* rsp_register_tags(); and when the re-registration is due now, read under the
         (recursive) dispatcher lock, so that the main loop cannot run it in between. */
      dispatcherLock(DISPATCHER);
      timerRestart(REREGISTRATION, 0);
      if(timerIsRunning(REREGISTRATION)) {
         const unsigned long long due = timestamp_of(reregistration.bytes);
         const unsigned long long now = getMicroTime();
         const double scheduled = (due > now) ? (due - now) / 1000.0 : 0.0;
         max_scheduled_ms = (scheduled > max_scheduled_ms) ? scheduled : max_scheduled_ms;
      }
      dispatcherUnlock(DISPATCHER);
   }
   stop = true;
   if(write(loop_pipe[1], "!", 1) != 1) { }        /* asapInstanceNotifyMainLoop() */
   pthread_join(loop, NULL);
   const long measured = (registrations < (long)(sizeof(delays_ms) / sizeof(delays_ms[0])))
                            ? registrations : (long)(sizeof(delays_ms) / sizeof(delays_ms[0]));
   qsort(delays_ms, measured, sizeof(delays_ms[0]), compare_doubles);
   printf("rate: changes=%ld registrations=%ld per_s=%.1f max_scheduled_ms=%.1f "
          "median_delay_ms=%.1f max_delay_ms=%.1f\n",
          changes, registrations, registrations / seconds, max_scheduled_ms,
          (measured > 0) ? delays_ms[measured / 2] : 0.0, max_delay_ms);
   return 0;
}

int main(int argc, char** argv)
{
   pthread_mutexattr_t attr;
   pthread_mutexattr_init(&attr);
   pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);   /* as RSPLIB's threadsafety.c */
   pthread_mutex_init(&mutex, &attr);
   dispatcherNew(DISPATCHER, lock, unlock, NULL);
   timerNew(TIMER, DISPATCHER, callback, NULL);
   const char* mode = argc > 1 ? argv[1] : "";

   if(strcmp(mode, "double-start") == 0 || strcmp(mode, "later-start") == 0) {
      timerStart(TIMER, 2000);
      timerStart(TIMER, strcmp(mode, "double-start") == 0 ? 1000 : 3000);
      printf("running=%d timestamp=%llu\n", timerIsRunning(TIMER), timestamp());
      return 0;
   }
   if(strcmp(mode, "race") == 0) {
      const long wanted = argc > 2 ? atol(argv[2]) : 200000;
      pthread_t thread;
      timerStart(TIMER, 0);
      pthread_create(&thread, NULL, application, NULL);
      for(rounds = 0; rounds < wanted; rounds++) {
         dispatcherLock(DISPATCHER);                 /* dispatcherHandlePollResult() */
         if(timerIsRunning(TIMER)) {
            timerStop(TIMER);                        /* the due timer leaves the tree */
         }
         dispatcherUnlock(DISPATCHER);               /* the callback runs unlocked */
         timerStart(TIMER, 1000000);                 /* reregistrationTimer()'s last step */
      }
      stop = true;
      pthread_join(thread, NULL);
      printf("race: %ld rounds\n", rounds);
      return 0;
   }
   if(strcmp(mode, "send") == 0 || strcmp(mode, "recv") == 0) {
      return helper_under_rearming(strcmp(mode, "send") == 0);
   }
   if(pipe(loop_pipe) != 0) {
      perror("pipe");
      return 1;
   }
   use_poll_chk = true;
   if(strcmp(mode, "wake") == 0) {
      use_poll_chk = (argc <= 2) || (strcmp(argv[2], "poll") != 0);
      pthread_t application = start(rearm_after_200ms, NULL);
      pthread_join(start_asap(asap_wait_once), NULL);
      pthread_join(application, NULL);
      printf("wake: result=%d after %.0f ms\n", result, elapsed_ms);
      return 0;
   }
   if((strcmp(mode, "rate") == 0) && (argc > 4)) {
      keepalive_ms = atoi(argv[4]);
      return rate(atof(argv[2]), atof(argv[3]));
   }
   fprintf(stderr, "usage: %s double-start|later-start|race [ROUNDS]|send|recv|wake [chk|poll]|"
                   "rate CHANGES_PER_S SECONDS KEEPALIVE_MS\n", argv[0]);
   return 2;
}
