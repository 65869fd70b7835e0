"""IKMR as an application: `mimiclab retarget-model train|refine` (``commands``) and the physics
refinement (``refine``: the learned retargeter of ``mimiclab.retarget.learned`` fine-tuned on what a
tracking policy of ``mimiclab.rl`` executes). It joins the retarget and rl layers, so it sits above them."""
