/* A bounded FIFO of pointers between two pipeline stages: push blocks while it is full, pop while it is
 * empty, and closing it wakes both sides (pushes then fail, pops drain what is left). */
#ifndef CPOSE_PIPELINE_QUEUE_H
#define CPOSE_PIPELINE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "cpose.h"

typedef struct queue queue;

cpose_status queue_create(size_t capacity, queue **queue_out);
/* The queue must be closed and drained (or never used) by then: items left in it are not freed. */
void queue_destroy(queue *q);

/* Appends `item`, waiting while the queue is full. False (the item not taken) once the queue is closed. */
bool queue_push(queue *q, void *item);
/* The oldest item, waiting while the queue is empty and open. NULL once it is closed and empty. */
void *queue_pop(queue *q);
/* No more pushes; waiting pushers and poppers wake up. */
void queue_close(queue *q);

#endif
