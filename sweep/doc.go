// Package sweep runs grids of training-and-analysis jobs (the paper's
// Table 1 and Table 3) on one machine or on a Slurm cluster, keeps track of
// which finished, and summarises their results as tables.
//
// A sweep file (YAML, see Config) lists cells of run settings; each cell
// expands over its lists of losses and class counts K and over the seeds
// into jobs. A job is one run (Spec: data subset, model, training, analysed
// epochs, analysis options), written as job.json into its own folder of
// the sweep folder and executed in its own process, because the thread
// count of the linear algebra and GOMAXPROCS are process-wide and come from
// the job's resources. The job's process records its state (state.json:
// running, done with the path and checksum of its results, interrupted
// when stopped by a signal, or failed with the error), so that a sweep started again skips finished jobs and resumes the
// others, and `awd sweep status` can list them with their logs.
//
// Locally a bounded pool of worker processes runs the jobs (Run); on Slurm
// one job array runs them, one task per job, and a collect job that
// depends on the array writes the tables (WriteSlurm, Submit).
//
// Tables group runs by their protocol: everything in a Spec but the seeds
// the sweep varies (ProtocolOf). Runs of two protocols are never averaged.
package sweep
