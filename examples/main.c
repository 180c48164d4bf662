/* A program using a model compiled by tidalc: the whole firmware contract.
 *
 *   build/bin/tidalc compile examples/classifier.onnx -o classifier.o
 *   cc -std=c11 -I. examples/main.c classifier.o $(build/bin/tidalc link-flags)
 *
 * classifier.h (written beside classifier.o) declares classifier_run() and
 * macros giving the sizes and types of its input, output and workspace; the
 * program owns every buffer, here statically: the model allocates nothing.
 * `make` builds and runs this program.
 */
#include "classifier.h"

#include <stdio.h>

/* The buffers, sized by the header; the program owns them all. */
static float image[CLASSIFIER_INPUT0_NUM_ELEMENTS];
static float probs[CLASSIFIER_OUTPUT0_NUM_ELEMENTS];
static _Alignas(CLASSIFIER_WORKSPACE_ALIGN) unsigned char
    workspace[CLASSIFIER_WORKSPACE_SIZE > 0 ? CLASSIFIER_WORKSPACE_SIZE : 1];

_Static_assert(CLASSIFIER_INPUT0_TYPE == TIDAL_TYPE_F32, "the image is f32");
_Static_assert(CLASSIFIER_OUTPUT0_TYPE == TIDAL_TYPE_F32, "probs are f32");

int main(void) {
  /* A fixed test pattern (examples/make_model.py computes the same). */
  for (int i = 0; i < CLASSIFIER_INPUT0_NUM_ELEMENTS; ++i)
    image[i] = (float)((i * 37) % 17) / 16.0f - 0.5f;

  const void *const inputs[CLASSIFIER_NUM_INPUTS] = {image};
  void *const outputs[CLASSIFIER_NUM_OUTPUTS] = {probs};
  if (classifier_run(inputs, outputs, workspace) != 0) {
    fprintf(stderr, "classifier_run failed\n");
    return 1;
  }

  int best = 0;
  for (int k = 0; k < CLASSIFIER_OUTPUT0_NUM_ELEMENTS; ++k) {
    printf("class %d: %.6f\n", k, probs[k]);
    if (probs[k] > probs[best])
      best = k;
  }
  printf("predicted class: %d\n", best);
  return 0;
}
