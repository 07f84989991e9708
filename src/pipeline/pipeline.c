/*
 * The streaming pipeline: a reader thread pulls frames from the source, an estimator thread finds persons,
 * estimates their poses and tracks them, and a sink thread hands the results to the sink, in order.
 * Bounded queues between the stages keep at most a few frames in memory however long the input is, and let
 * reading and writing (decoding, drawing, encoding video) overlap with the networks.
 *
 * Shutdown: the end of the source ends the reader, which closes its queue; the estimator drains it and
 * closes the next; the sink drains that. The stop flag ends the reader too, and the estimator then drops the
 * frames still waiting, so that a Ctrl-C costs at most the frame at hand and those already estimated. When the sink asks to stop, both queues are closed at
 * once, pushes fail, and each stage frees what it holds.
 */
#define _DEFAULT_SOURCE /* syscall(SYS_gettid): a thread's own nice value, beyond POSIX */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "pipeline/queue.h"

#define PIPELINE_MAX_TRACKED 256 /* boxes taken from the tracker on a frame without detection */

/* A frame travelling through the stages. */
typedef struct job {
  cpose_result_frame result;
  cpose_source_frame source;
  char error[512];
} job;

typedef struct pipeline {
  const cpose_pipeline_params *params;
  cpose_source_fn source;
  void *source_user;
  cpose_sink_fn sink;
  void *sink_user;
  cpose_estimator *estimator;
  cpose_tracker *tracker;
  queue *read, *estimated; /* reader -> estimator -> sink */
  long frames_estimated;
  long frames_read;        /* by the reader; read by the run after joining it */
  bool reader_out_of_memory; /* the reader stopped for want of a frame's memory: the run's status says so */
} pipeline;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

cpose_pipeline_params cpose_pipeline_params_default(void) {
  cpose_pipeline_params p;
  memset(&p, 0, sizeof p);
  p.estimator = cpose_estimator_params_default();
  p.tracker = cpose_tracker_params_default();
  p.detect_every = 1;
  p.queue_length = 4;
  return p;
}

static void job_free(job *j) {
  if (!j) return;
  cpose_image_destroy(j->result.image);
  cpose_persons_free(j->result.persons);
  cpose_free(j);
}

/* Records a failure of the frame with the calling thread's last error. */
static void job_fail(job *j, cpose_status status) {
  j->result.status = status;
  snprintf(j->error, sizeof j->error, "%s", cpose_last_error());
  j->result.error = j->error;
  cpose_image_destroy(j->result.image);
  j->result.image = NULL;
}

/* ---- reader ------------------------------------------------------------------------------------------- */

/* The next frame from the source as a job; NULL at the end, or when there is no memory for the job (then
 * p->reader_out_of_memory is set). */
static job *read_job(pipeline *p) {
  job *j = cpose_calloc(1, sizeof *j);
  if (!j) {
    p->reader_out_of_memory = true;
    return NULL;
  }
  p->frames_read++;
  double t0 = now_ms();
  cpose_status status = p->source(p->source_user, &j->source);
  j->result.index = j->source.index;
  j->result.image = j->source.image;
  j->result.read_ms = now_ms() - t0;
  if (status != CPOSE_OK) {
    job_fail(j, status);
  } else if (!j->source.image) {
    cpose_free(j);
    return NULL;
  }
  return j;
}

/* Lowers the calling thread's priority to nice 19 (Linux: a thread's own nice value). The networks' worker
 * threads wait for each other at every layer: a reader or sink thread that takes one of their cores stalls
 * them all for a scheduler time slice, many times a frame. At nice 19 the reader and the sink run when a
 * core is free (between layers and between frames) and barely delay the networks. */
static void yield_to_networks(void) {
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19); /* advice: if refused, only slower */
}

static void *reader_main(void *arg) {
  pipeline *p = arg;
  yield_to_networks();
  const volatile sig_atomic_t *stop = p->params->stop;
  while (!(stop && *stop)) {
    job *j = read_job(p);
    if (!j) break;
    if (!queue_push(p->read, j)) {
      job_free(j);
      break;
    }
  }
  queue_close(p->read);
  return NULL;
}

/* ---- estimator ---------------------------------------------------------------------------------------- */

/* The boxes that replace the detector on this frame, or NULL when the detector runs: the source's (a
 * detections file), or the tracks' predictions on frames between detections. */
static const cpose_box *frame_boxes(pipeline *p, job *j, cpose_box *tracked, size_t *count_out) {
  if (j->source.has_boxes) {
    static const cpose_box none[1];
    *count_out = j->source.box_count;
    return j->source.boxes ? j->source.boxes : none;
  }
  int every = p->params->detect_every;
  if (!p->tracker || every <= 1 || p->frames_estimated % every == 0) return NULL;
  size_t n = cpose_tracker_predict(p->tracker, every, tracked, PIPELINE_MAX_TRACKED);
  *count_out = n;
  return n > 0 ? tracked : NULL; /* nobody tracked: look for people */
}

/* Drops the persons without an id (tentative tracks, persons too weak to start one), keeping the order. */
static void keep_tracked(cpose_result_frame *r) {
  size_t kept = 0;
  for (size_t i = 0; i < r->count; i++) {
    if (r->persons[i].track_id > 0) r->persons[kept++] = r->persons[i];
  }
  r->count = kept;
}

static cpose_status estimate(pipeline *p, job *j) {
  cpose_result_frame *r = &j->result;
  cpose_box tracked[PIPELINE_MAX_TRACKED];
  size_t box_count = 0;
  const cpose_box *boxes = frame_boxes(p, j, tracked, &box_count);
  cpose_status status = cpose_estimator_run(p->estimator, r->image, boxes, box_count, &r->persons, &r->count);
  if (status != CPOSE_OK) return status;
  p->frames_estimated++;
  cpose_stage_times times;
  cpose_estimator_times(p->estimator, &times);
  r->detect_ms = times.detect_ms, r->pose_ms = times.pose_ms, r->nms_ms = times.nms_ms;
  r->box_count = times.box_count;
  if (!p->tracker) return CPOSE_OK;
  double t0 = now_ms();
  status = cpose_tracker_update(p->tracker, r->image, r->persons, r->count);
  if (status == CPOSE_OK) keep_tracked(r);
  r->track_ms = now_ms() - t0;
  return status;
}

static void *estimator_main(void *arg) {
  pipeline *p = arg;
  const volatile sig_atomic_t *stop = p->params->stop;
  job *j;
  while ((j = queue_pop(p->read)) != NULL) {
    if (stop && *stop) { /* finish the frame at hand, not the ones waiting */
      job_free(j);
      continue;
    }
    if (j->result.status == CPOSE_OK) {
      cpose_status status = estimate(p, j);
      if (status != CPOSE_OK) job_fail(j, status);
    }
    if (!queue_push(p->estimated, j)) {
      job_free(j);
      break;
    }
  }
  queue_close(p->read); /* when the sink stopped early: the reader's next push fails */
  queue_close(p->estimated);
  return NULL;
}

/* ---- the run ------------------------------------------------------------------------------------------ */

static cpose_status check_params(const cpose_pipeline_params *params) {
  if (params->detect_every < 1 || params->detect_every > 1000) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "detect_every %d is not 1..1000", params->detect_every);
  }
  if (params->queue_length < 1 || params->queue_length > 1000) {
    return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "queue_length %d is not 1..1000", params->queue_length);
  }
  return CPOSE_OK;
}

static cpose_status pipeline_open(pipeline *p) {
  const cpose_pipeline_params *params = p->params;
  cpose_status status = check_params(params);
  if (status == CPOSE_OK) status = cpose_estimator_create(&params->estimator, &p->estimator);
  if (status == CPOSE_OK && params->track) status = cpose_tracker_create(&params->tracker, &p->tracker);
  if (status == CPOSE_OK) status = queue_create((size_t)params->queue_length, &p->read);
  if (status == CPOSE_OK) status = queue_create((size_t)params->queue_length, &p->estimated);
  return status;
}

static void pipeline_close(pipeline *p) {
  queue_destroy(p->read);
  queue_destroy(p->estimated);
  cpose_tracker_destroy(p->tracker);
  cpose_estimator_destroy(p->estimator);
}

/* Hands the estimated frames to the sink until the queue ends or the sink says stop. */
static void *sink_main(void *arg) {
  pipeline *p = arg;
  yield_to_networks();
  job *j;
  while ((j = queue_pop(p->estimated)) != NULL) {
    int stop = p->sink(p->sink_user, &j->result);
    job_free(j);
    if (stop) {
      queue_close(p->estimated);
      queue_close(p->read);
      break;
    }
  }
  return NULL;
}

/* What the stopped stages left in the queues. */
static void drain(queue *q) {
  job *j;
  while ((j = queue_pop(q)) != NULL) job_free(j);
}

/* Starts the three stages; on failure closes the queues so that the started ones end. */
static int start_stages(pipeline *p, pthread_t threads[3]) {
  void *(*const stages[3])(void *) = {reader_main, estimator_main, sink_main};
  int started = 0;
  while (started < 3 && pthread_create(&threads[started], NULL, stages[started], p) == 0) started++;
  if (started < 3) {
    queue_close(p->read);
    queue_close(p->estimated);
  }
  return started;
}

cpose_status cpose_pipeline_run(const cpose_pipeline_params *params, cpose_source_fn source, void *source_user,
                                cpose_sink_fn sink, void *sink_user) {
  if (!params || !source || !sink) return cpose_fail(CPOSE_ERR_INVALID_ARGUMENT, "cpose_pipeline_run: NULL argument");
  pipeline p = {.params = params, .source = source, .source_user = source_user, .sink = sink, .sink_user = sink_user};
  cpose_status status = pipeline_open(&p);
  if (status == CPOSE_OK) {
    pthread_t threads[3];
    int started = start_stages(&p, threads);
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    if (started < 3) status = cpose_fail(CPOSE_ERR_INTERNAL, "cannot start the pipeline's threads");
    if (status == CPOSE_OK && p.reader_out_of_memory) {
      status = cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for frame %ld of the source: the run stopped after the frames before it",
                          p.frames_read + 1);
    }
    drain(p.read);
    drain(p.estimated);
  }
  pipeline_close(&p);
  return status;
}
