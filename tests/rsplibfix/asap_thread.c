/*
 * Built as "librsplib.so.0.harness": librspfreshload takes the thread whose start
 * routine lies in an object named librsplib.so* for RSPLIB's ASAP main-loop thread
 * (in rspserver: asapInstanceMainLoop, started by librsplib).  pe_harness.c starts its
 * "ASAP thread" through this routine, so that the library treats it as it treats the PE's.
 */
struct AsapJob {
   void* (*run)(void*);
   void*  argument;
};

void* asapHarnessThread(void* raw)
{
   struct AsapJob* job = (struct AsapJob*)raw;
   return job->run(job->argument);
}
