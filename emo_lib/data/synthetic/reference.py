"""Reference figures the synthetic faces are proportioned by, each with its provenance.

Holds numbers measured elsewhere (real photographs, anthropometric growth studies) and the
child/adult ratios derived from them; :mod:`.population` turns them into drawing constants and
the synthetic-faces page shows the generator's faces beside them. It draws nothing and holds no
paper's result (those live in ``book/paper_values.yaml``).

Crop proportions are fractions of the side of the face crop that ``emo_lib.faces`` makes
(MTCNN box, margin 0.2 on each side), measured on the crop's five landmarks:
``interocular`` eye to eye, ``mouth_width`` corner to corner, ``eye_to_mouth`` eye line to
mouth-corner line, ``eye_to_mouth_ratio`` = eye_to_mouth / interocular.
"""
from __future__ import annotations

#: Mean crop proportions of 389 real adult photographs of posed expressions, measured with
#: this project's ``detect_faces`` + ``align_face`` (margin 0.2) when the synthetic faces' framing
#: was matched to real ones (the project's issue 10). The photographs themselves are not part of
#: the project.
REAL_ADULT_CROP: dict[str, float] = {
    "interocular": 0.247, "mouth_width": 0.212, "eye_to_mouth": 0.273,
    "eye_to_mouth_ratio": 1.11,
}
#: As a page's source column shows it (a reader's words: no internal note).
REAL_ADULT_CROP_SOURCE = ("389 real adult photographs, cropped by this project's face pipeline "
                          "(MTCNN, margin 0.2)")
#: How close synthetic adults must come to each crop fraction (issue 10).
ADULT_TOLERANCE = 0.02

#: Growth figures, child against adult, from the cited studies (``book/references.bib``).
#: farkas1992orbital (1,594 North American Caucasians aged 1-18): at 5 years the intercanthal
#: width (en-en) is 93.3 % and the biocular width (ex-ex) 88.1 % of the adult value; en-en
#: matures at 8 (girls) / 11 (boys), ex-ex at 13 / 15.
INTERCANTHAL_AT_5 = 0.933
BIOCULAR_AT_5 = 0.881
#: Adult en-en / ex-ex (Farkas's adult norms put en-en near 32 mm and ex-ex near 90 mm).
INTERCANTHAL_PER_BIOCULAR = 0.35
#: ferrario1998growth (3D soft tissue, 6 years to adulthood): from 6 years to adulthood the
#: middle third of the face (n-sn) grows by 18 % (boys) / 13 % (girls), the lower third (sn-gn)
#: by 23 % / 17 %, the upper third by 16 % / 9 %.
MIDDLE_THIRD_GROWTH_FROM_6 = (0.18, 0.13)
LOWER_THIRD_GROWTH_FROM_6 = (0.23, 0.17)

#: The age the child ratios below describe: CAFE's children are 2-8 (drawn in [2, 9), mean
#: 5.5); the studies report 5 (Farkas) and 6 (Ferrario) years.
CHILD_REFERENCE_AGE = 5.5


def _at_6(growth: tuple[float, float]) -> float:
    """Size at 6 years as a fraction of adult size, boys and girls averaged."""
    return 1.0 / (1.0 + sum(growth) / len(growth))


#: Child (about 5.5 years) / adult, per landmark distance:
#: interocular: the pupils sit midway between the canthi, so the eye-to-eye distance is
#: (en-en + ex-ex) / 2 and grows as their weighted mean;
#: eye_to_mouth: two thirds middle face (pupil line to subnasale), one third upper lip (part of
#: the lower third);
#: mouth_width and mouth_to_chin: the lower third's figure. The studies give no mouth-width
#: growth; this is the project's assumption, stated here and on the synthetic-faces page.
CHILD_GROWTH: dict[str, float] = {
    "interocular": round((INTERCANTHAL_AT_5 * INTERCANTHAL_PER_BIOCULAR + BIOCULAR_AT_5)
                         / (1.0 + INTERCANTHAL_PER_BIOCULAR), 3),
    "eye_to_mouth": round((2 * _at_6(MIDDLE_THIRD_GROWTH_FROM_6)
                           + _at_6(LOWER_THIRD_GROWTH_FROM_6)) / 3, 3),
    "mouth_width": round(_at_6(LOWER_THIRD_GROWTH_FROM_6), 3),
    "mouth_to_chin": round(_at_6(LOWER_THIRD_GROWTH_FROM_6), 3),
}
#: The studies behind :data:`CHILD_GROWTH`: (BibTeX key in ``book/references.bib``, what it
#: gives); a page shows them as citations (:func:`child_growth_source`), never as keys.
CHILD_GROWTH_SOURCES: tuple[tuple[str, str], ...] = (("farkas1992orbital", "eyes"),
                                                     ("ferrario1998growth", "face thirds"))


def child_growth_source() -> str:
    """"Farkas et al. 1992 (eyes), Ferrario et al. 1998 (face thirds)": the studies behind
    :data:`CHILD_GROWTH` as the bibliography cites them."""
    from ...citations import cite_text

    return ", ".join(f"{cite_text(key)} ({what})" for key, what in CHILD_GROWTH_SOURCES)


def child_landmark_ratios() -> dict[str, float]:
    """A child's (about 5.5 years) eye-to-mouth and mouth-width per interocular distance,
    from the adult reference and :data:`CHILD_GROWTH`."""
    iod = CHILD_GROWTH["interocular"]
    mouth_per_iod = REAL_ADULT_CROP["mouth_width"] / REAL_ADULT_CROP["interocular"]
    return {
        "eye_to_mouth_ratio": REAL_ADULT_CROP["eye_to_mouth_ratio"]
        * CHILD_GROWTH["eye_to_mouth"] / iod,
        "mouth_per_interocular": mouth_per_iod * CHILD_GROWTH["mouth_width"] / iod,
    }


__all__ = ["ADULT_TOLERANCE", "CHILD_GROWTH", "CHILD_GROWTH_SOURCES", "CHILD_REFERENCE_AGE",
           "REAL_ADULT_CROP", "REAL_ADULT_CROP_SOURCE", "child_growth_source",
           "child_landmark_ratios"]
