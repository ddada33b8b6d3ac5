from django.urls import path

from . import views

app_name = "education"

urlpatterns = [
    path("", views.article_list, name="article-list"),
    path("a/<int:pk>/", views.article_by_number, name="article-by-number"),
    path("<slug:slug>/", views.article_detail, name="article-detail"),
    path("<slug:slug>/handout.pdf", views.article_handout, name="article-handout"),
    path("<slug:slug>/questions/<int:question_id>/", views.answer_question, name="answer-question"),
]
