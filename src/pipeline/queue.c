#include "pipeline/queue.h"

#include <pthread.h>

#include "core/alloc.h"
#include "core/error.h"

struct queue {
  pthread_mutex_t lock;
  pthread_cond_t not_full, not_empty;
  void **items; /* a ring of `capacity` slots */
  size_t capacity, head, count;
  bool closed;
};

cpose_status queue_create(size_t capacity, queue **queue_out) {
  queue *q = cpose_calloc(1, sizeof *q);
  void **items = capacity ? cpose_calloc(capacity, sizeof *items) : NULL;
  if (!q || !items) {
    cpose_free(q);
    cpose_free(items);
    return cpose_fail(CPOSE_ERR_OUT_OF_MEMORY, "no memory for a queue of %zu frames", capacity);
  }
  q->items = items;
  q->capacity = capacity;
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->not_full, NULL);
  pthread_cond_init(&q->not_empty, NULL);
  *queue_out = q;
  return CPOSE_OK;
}

void queue_destroy(queue *q) {
  if (!q) return;
  pthread_mutex_destroy(&q->lock);
  pthread_cond_destroy(&q->not_full);
  pthread_cond_destroy(&q->not_empty);
  cpose_free(q->items);
  cpose_free(q);
}

bool queue_push(queue *q, void *item) {
  pthread_mutex_lock(&q->lock);
  while (q->count == q->capacity && !q->closed) pthread_cond_wait(&q->not_full, &q->lock);
  bool taken = !q->closed;
  if (taken) {
    q->items[(q->head + q->count) % q->capacity] = item;
    q->count++;
    pthread_cond_signal(&q->not_empty);
  }
  pthread_mutex_unlock(&q->lock);
  return taken;
}

void *queue_pop(queue *q) {
  pthread_mutex_lock(&q->lock);
  while (q->count == 0 && !q->closed) pthread_cond_wait(&q->not_empty, &q->lock);
  void *item = NULL;
  if (q->count > 0) {
    item = q->items[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    pthread_cond_signal(&q->not_full);
  }
  pthread_mutex_unlock(&q->lock);
  return item;
}

void queue_close(queue *q) {
  pthread_mutex_lock(&q->lock);
  q->closed = true;
  pthread_cond_broadcast(&q->not_full);
  pthread_cond_broadcast(&q->not_empty);
  pthread_mutex_unlock(&q->lock);
}
