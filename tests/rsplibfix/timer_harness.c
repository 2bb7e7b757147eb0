/*
 * Drives RSPLIB's own timer code (librspdispatcher) the way its PE does, to test
 * librspfreshload's guard against the timer.c:76 abort on the host (no SCTP needed).
 *
 *   double-start: timerStart() on a running timer, as the re-registration callback
 *                 does when the application re-armed the timer meanwhile;
 *   later-start:  the same with a later time (the earlier one must stay);
 *   race:         two threads as in the PE: the "ASAP thread" unlinks the due timer
 *                 under the dispatcher lock and then starts it again unlocked (the end
 *                 of reregistrationTimer()), while the "application thread" calls
 *                 timerRestart(timer, 0) (rsp_register_tags()) in a loop.
 *
 * Prints "running=<0|1> timestamp=<n>" (single cases) or "race: <n> rounds" and exits 0.
 * RSPLIB's headers are not installed; the prototypes below are those of 3.4.4.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static pthread_mutex_t mutex;
static void lock(struct Dispatcher* d, void* u) { (void)d; (void)u; pthread_mutex_lock(&mutex); }
static void unlock(struct Dispatcher* d, void* u) { (void)d; (void)u; pthread_mutex_unlock(&mutex); }
static void callback(struct Dispatcher* d, struct Timer* t, void* u) { (void)d; (void)t; (void)u; }

static union { char bytes[4096]; void* align; } dispatcher;
static union { char bytes[256]; void* align; } timer;
#define DISPATCHER ((struct Dispatcher*)&dispatcher)
#define TIMER      ((struct Timer*)&timer)

static unsigned long long timestamp(void)
{
   unsigned long long value;
   memcpy(&value, timer.bytes + 56, sizeof(value));   /* struct Timer.TimeStamp (3.4.4) */
   return value;
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
   fprintf(stderr, "usage: %s double-start|later-start|race [ROUNDS]\n", argv[0]);
   return 2;
}
